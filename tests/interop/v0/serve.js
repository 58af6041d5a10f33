'use strict'
// wechaty-puppet-service 0.21 (plain gRPC) over wechaty-puppet-mock: see ../serve.js and ../README.md
require('../serve.js')(require)
