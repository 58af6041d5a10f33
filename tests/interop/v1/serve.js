'use strict'
// wechaty-puppet-service 1.19 (TLS by default) over wechaty-puppet-mock: see ../serve.js and ../README.md
require('../serve.js')(require)
