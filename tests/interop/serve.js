'use strict'
/**
 * A real wechaty PuppetServer (npm `wechaty-puppet-service`) over a real `wechaty-puppet-mock`,
 * driven from stdin and reporting on stdout, for the Python bot's interop tests.
 *
 * Shared by both generations: v0/serve.js and v1/serve.js pass their own `require`, so each
 * loads the packages of its own node_modules. Run `node v0/serve.js --help` for the options.
 *
 * stdin:  one JSON command a line, e.g. {"cmd": "text", "from": "wx_wang", "text": "/帮助"}
 * stdout: one JSON object a line: {"ready": true, ...} once listening, {"ack": ...} or
 *         {"error": ...} for every command, {"call": ...} for every puppet method the bot
 *         called, {"served": ...} for every attachment the bot downloaded.
 * stderr: the packages' own logs (WECHATY_LOG=verbose for more).
 */
const crypto = require('crypto')
const http = require('http')
const net = require('net')
const path = require('path')
const readline = require('readline')
const util = require('util')

// The packages log through console; stdout carries only our JSON lines.
for (const name of ['log', 'info', 'debug']) {
  console[name] = (...args) => process.stderr.write(util.format(...args) + '\n')
}

const USAGE = `usage: node serve.js [--port N] [--token T] [--host H] [--heartbeat S] [--no-tls]
                     [--tls-cert FILE --tls-key FILE]
  --port       gRPC port (env INTEROP_PORT; 0 or none: a free one, shown in the ready line)
  --token      token the service accepts (env WECHATY_PUPPET_SERVICE_TOKEN; default ${'insecure_jingmin-interop'})
  --heartbeat  emit a puppet heartbeat every S seconds (default 0: never, like the mock)
  --no-tls     1.x only: plain gRPC (sets the service's tls.disable)
  --tls-cert/--tls-key  1.x only: PEM files instead of the package's built-in "insecure" cert`

const BOT = { id: 'wx_bot', name: '警民群助手' }
const CONTACTS = [
  { id: 'wx_zhang', name: '张警官', friend: true },
  { id: 'wx_wang', name: '王阿姨', friend: true },
  { id: 'wx_chen', name: '陈大爷', friend: true },
  { id: 'wx_zhou', name: '小周', friend: true }, // not in the room: for joins
]
const ROOMS = [
  { id: 'xingfuli-residents@chatroom', topic: '幸福里居民群', memberIdList: ['wx_bot', 'wx_zhang', 'wx_wang', 'wx_chen'], ownerId: 'wx_zhang' },
]
// A 1x1 PNG: what an `image` command serves unless it brings its own bytes.
const PNG_1X1 = 'iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mP8z8BQDwAEhQGAhKmMIQAAAABJRU5ErkJggg=='

function parseArgs (argv) {
  const opts = {
    port: Number(process.env.INTEROP_PORT || 0),
    token: process.env.WECHATY_PUPPET_SERVICE_TOKEN || 'insecure_jingmin-interop',
    host: '127.0.0.1',
    heartbeat: 0,
    tls: true,
    tlsCert: undefined,
    tlsKey: undefined,
  }
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i]
    const value = () => argv[++i]
    if (arg === '--port') opts.port = Number(value())
    else if (arg === '--token') opts.token = value()
    else if (arg === '--host') opts.host = value()
    else if (arg === '--heartbeat') opts.heartbeat = Number(value())
    else if (arg === '--no-tls') opts.tls = false
    else if (arg === '--tls-cert') opts.tlsCert = value()
    else if (arg === '--tls-key') opts.tlsKey = value()
    else if (arg === '--help' || arg === '-h') { process.stderr.write(USAGE + '\n'); process.exit(0) }
    else { process.stderr.write(`unknown argument ${arg}\n${USAGE}\n`); process.exit(2) }
  }
  return opts
}

/** What differs between the generations, in one place. */
function generation (req) {
  const service = req('wechaty-puppet-service')
  const puppetPkg = req('wechaty-puppet')
  const mockPkg = req('wechaty-puppet-mock')
  const v1 = String(service.VERSION).startsWith('1.')
  const types = v1 ? puppetPkg.types : puppetPkg
  const FileBox = v1 ? req('file-box').FileBox : puppetPkg.FileBox
  const gen = {
    v1,
    versions: { 'wechaty-puppet-service': service.VERSION, 'wechaty-puppet': puppetPkg.VERSION, 'wechaty-puppet-mock': mockPkg.VERSION },
    PuppetServer: service.PuppetServer,
    PuppetMock: mockPkg.PuppetMock,
    Mocker: mockPkg.mock.Mocker,
    FileBox,
    MessageType: types.MessageType || types.Message,
    FriendshipType: types.FriendshipType || types.Friendship,
    DirtyType: types.PayloadType || types.Dirty,
    fromUrl: (url, name) => v1 ? FileBox.fromUrl(url, { name }) : FileBox.fromUrl(url, name),
    // 0.x payloads say fromId/toId, 1.x talkerId/listenerId
    messagePayload: ({ id, type, text, from, to, room, mentions }) => ({
      id, type, text, timestamp: Date.now(), roomId: room, mentionIdList: mentions,
      ...(v1 ? { talkerId: from, listenerId: room ? undefined : to } : { fromId: from, toId: room ? undefined : to }),
    }),
    // the certificate a 1.x server presents unless told otherwise (not exported by the package)
    tlsDefaults: () => {
      if (!v1) return undefined
      const ca = require(path.join(path.dirname(req.resolve('wechaty-puppet-service')), 'auth', 'ca.js'))
      return { serverName: ca.TLS_INSECURE_SERVER_CERT_COMMON_NAME, ca: ca.TLS_CA_CERT }
    },
  }
  return gen
}

let muted = false // while serve.js itself shuts the puppet down

function emit (obj) {
  process.stdout.write(JSON.stringify(obj) + '\n')
}

async function freePort (host) {
  return new Promise((resolve, reject) => {
    const srv = net.createServer()
    srv.once('error', reject)
    srv.listen(0, host, () => { const { port } = srv.address(); srv.close(() => resolve(port)) })
  })
}

/** Serves attachment bytes, as a CDN serves a puppet's images. */
async function startFileServer (host) {
  const files = new Map()
  const server = http.createServer((request, response) => {
    const file = files.get(decodeURIComponent(request.url))
    if (!file) { response.writeHead(404); response.end(); return }
    response.writeHead(200, { 'Content-Type': file.type, 'Content-Length': file.bytes.length })
    response.end(file.bytes)
    emit({ served: request.url, bytes: file.bytes.length })
  })
  await new Promise(resolve => server.listen(0, host, resolve))
  const base = `http://${host}:${server.address().port}`
  return {
    server,
    add (name, bytes, type) {
      const urlPath = `/files/${crypto.randomUUID().slice(0, 8)}/${name}`
      files.set(urlPath, { bytes, type })
      return base + encodeURI(urlPath)
    },
  }
}

async function main (req) {
  const opts = parseArgs(process.argv.slice(2))
  const gen = generation(req)
  const fileServer = await startFileServer(opts.host)

  const mocker = new gen.Mocker()
  const bot = mocker.createContact({ id: BOT.id, name: BOT.name, friend: false })
  for (const c of CONTACTS) mocker.createContact({ ...c })
  for (const r of ROOMS) mocker.createRoom({ adminIdList: [], ...r, memberIdList: [...r.memberIdList] })
  // Every Start RPC starts the mocker, which logs the bot in again (the real mock's behaviour).
  mocker.use(m => { m.login(bot); return () => {} })

  const puppet = new gen.PuppetMock({ mocker })
  const attachments = new Map() // message id -> FileBox
  const friendships = new Map() // friendship id -> payload
  const invitations = new Map() // room invitation id -> payload
  fillMockGaps(gen, puppet, mocker, { attachments, friendships, invitations })
  const unhooked = reportCalls(gen, puppet)

  if (!opts.port) opts.port = await freePort(opts.host)
  const tls = gen.v1 ? tlsOptions(opts) : undefined
  const server = new gen.PuppetServer({ endpoint: `${opts.host}:${opts.port}`, puppet, token: opts.token, ...(tls ? { tls } : {}) })
  await server.start()

  let heartbeats
  if (opts.heartbeat > 0) {
    heartbeats = setInterval(() => puppet.emit('heartbeat', { data: `heartbeat@${Date.now()}` }), opts.heartbeat * 1000)
  }

  const tlsOn = gen.v1 && !(tls && tls.disable)
  const defaults = gen.tlsDefaults()
  emit({
    ready: true,
    port: opts.port,
    endpoint: `${opts.host}:${opts.port}`,
    generation: gen.v1 ? 'v1' : 'v0',
    versions: gen.versions,
    tls: tlsOn,
    ...(tlsOn && !opts.tlsCert ? { server_name: defaults.serverName, ca: defaults.ca } : {}),
    bot: BOT,
    contacts: CONTACTS,
    rooms: ROOMS.map(r => ({ id: r.id, topic: r.topic })),
  })

  const commands = makeCommands(gen, puppet, unhooked, mocker, fileServer, { attachments, friendships, invitations })
  const lines = readline.createInterface({ input: process.stdin })
  lines.on('line', async line => {
    if (!line.trim()) return
    let command
    try {
      command = JSON.parse(line)
      const handler = commands[command.cmd]
      if (!handler) throw new Error(`unknown cmd ${JSON.stringify(command.cmd)}; known: ${Object.keys(commands).join(', ')}`)
      emit({ ack: command.cmd, ...(await handler(command)) })
    } catch (e) {
      emit({ error: String(e && e.message || e), cmd: command && command.cmd })
    }
  })

  let stopping = false
  const stop = async signal => {
    if (stopping) return
    stopping = true
    muted = true
    setTimeout(() => process.exit(0), 3000).unref()
    if (heartbeats) clearInterval(heartbeats)
    lines.close()
    try { await server.stop() } catch (e) { process.stderr.write(`server.stop(): ${e}\n`) }
    try { await puppet.stop() } catch (e) { process.stderr.write(`puppet.stop(): ${e}\n`) }
    fileServer.server.close()
    emit({ stopped: signal })
    process.exit(0)
  }
  process.on('SIGTERM', () => stop('SIGTERM'))
  process.on('SIGINT', () => stop('SIGINT'))
}

function tlsOptions (opts) {
  const fs = require('fs')
  if (!opts.tls) return { disable: true }
  if (opts.tlsCert || opts.tlsKey) {
    return { serverCert: fs.readFileSync(opts.tlsCert, 'utf8'), serverKey: fs.readFileSync(opts.tlsKey, 'utf8') }
  }
  return undefined // the package's built-in "insecure" certificate, signed by its root CA
}

/** The mock leaves these empty or fake; give the bot what a real puppet would. */
function fillMockGaps (gen, puppet, mocker, { attachments, friendships, invitations }) {
  const messageImage = puppet.messageImage.bind(puppet)
  const messageFile = puppet.messageFile.bind(puppet)
  puppet.messageImage = async (id, type) => attachments.get(id) || messageImage(id, type)
  puppet.messageFile = async id => attachments.get(id) || messageFile(id)
  puppet.friendshipRawPayload = async id => {
    const payload = friendships.get(id)
    if (!payload) throw new Error(`no friendship ${id}`)
    return payload
  }
  puppet.roomInvitationRawPayload = async id => {
    const payload = invitations.get(id)
    if (!payload) throw new Error(`no room invitation ${id}`)
    return payload
  }
  puppet.roomMemberList = async roomId => [...mocker.roomPayload(roomId).memberIdList]
  puppet.roomMemberRawPayload = async (roomId, contactId) => {
    const c = mocker.contactPayload(contactId)
    return { id: c.id, name: c.name, avatar: c.avatar || '', roomAlias: '' }
  }
}

/** One {"call": ...} line for everything the bot asks the puppet to do; returns the unhooked methods. */
function reportCalls (gen, puppet) {
  const unhooked = {}
  const describeBox = async box => {
    const bytes = await box.toBuffer()
    return {
      name: box.name,
      type: box.mediaType || box.mimeType,
      size: bytes.length,
      sha256: crypto.createHash('sha256').update(bytes).digest('hex'),
    }
  }
  const formats = {
    start: () => ({}),
    stop: () => ({}),
    ding: data => ({ data }),
    messageSendText: (to, text, mentions) => ({ to, text, mentions: mentions || [] }),
    messageSendFile: async (to, box) => ({ to, ...(await describeBox(box)) }),
    messageSendUrl: (to, link) => ({ to, link }),
    messageSendContact: (to, contactId) => ({ to, contactId }),
    messageSendMiniProgram: (to, miniProgram) => ({ to, miniProgram }),
    messageForward: (to, messageId) => ({ to, messageId }),
    messageRecall: messageId => ({ messageId }),
    friendshipAccept: id => ({ id }),
    friendshipAdd: (contactId, hello) => ({ contactId, hello }),
    roomInvitationAccept: id => ({ id }),
    roomAdd: (roomId, contactId) => ({ roomId, contactId }),
    roomDel: (roomId, contactId) => ({ roomId, contactId }),
    roomCreate: (contactIds, topic) => ({ contactIds, topic }),
    roomQuit: roomId => ({ roomId }),
    roomAnnounce: (roomId, text) => text === undefined ? null : { roomId, text },
    roomTopic: (roomId, topic) => topic === undefined ? null : { roomId, topic },
    contactAlias: (contactId, alias) => alias === undefined ? null : { contactId, alias },
  }
  // The puppet's own watchdog reset stops and starts it too: that is no call of the bot.
  let resetting = false
  const reset = puppet.reset.bind(puppet)
  puppet.reset = async (...args) => {
    emit({ puppet: 'reset' })
    resetting = true
    try { return await reset(...args) } finally { resetting = false }
  }
  for (const [name, format] of Object.entries(formats)) {
    const original = puppet[name]
    if (typeof original !== 'function') continue
    unhooked[name] = original.bind(puppet)
    puppet[name] = async function (...args) {
      const fields = await format(...args)
      if (fields && !muted && !(resetting && (name === 'start' || name === 'stop'))) emit({ call: name, ...fields })
      return original.apply(this, args)
    }
  }
  return unhooked
}

function makeCommands (gen, puppet, unhooked, mocker, fileServer, { attachments, friendships, invitations }) {
  const known = id => { mocker.contactPayload(id); return id } // throws on an unknown contact
  const ensureContact = (id, name) => {
    try { return mocker.contactPayload(id) && id } catch { mocker.createContact({ id, name: name || id, friend: false }); return id }
  }
  const newId = prefix => `${prefix}-${crypto.randomUUID().slice(0, 12)}`
  /** A message from contact c.from (in c.room, if given) to the bot; `box` for images and files. */
  const post = (c, type, text, box) => {
    const id = newId('msg')
    if (box) attachments.set(id, box)
    const payload = gen.messagePayload({ id, type, text, from: known(c.from), to: BOT.id, room: c.room, mentions: c.mentions || [] })
    mocker.MessageMock.create(payload)
    puppet.emit('message', { messageId: id })
    return id
  }

  return {
    /** {"cmd":"text","from":"wx_wang","text":"/帮助"} ; in a room: add "room":ID, "mentions":["wx_bot"] */
    text: c => ({ id: post(c, gen.MessageType.Text, c.text) }),

    /** {"cmd":"image","from":..., "room"?:..., "name":"photo.png", "base64"?:...}: a URL FileBox */
    image: c => {
      const name = c.name || 'photo.png'
      const url = fileServer.add(name, Buffer.from(c.base64 || PNG_1X1, 'base64'), c.type || 'image/png')
      return { id: post(c, gen.MessageType.Image, c.text || '', gen.fromUrl(url, name)), url }
    },

    /** {"cmd":"file","from":..., "name":"a.pdf", "base64":..., "url"?:true}: base64 FileBox, or URL */
    file: c => {
      const name = c.name || 'file.txt'
      const bytes = Buffer.from(c.base64 || Buffer.from('附件内容').toString('base64'), 'base64')
      const url = c.url ? fileServer.add(name, bytes, c.type || 'application/octet-stream') : undefined
      const box = url ? gen.fromUrl(url, name) : gen.FileBox.fromBase64(bytes.toString('base64'), name)
      return { id: post(c, gen.MessageType.Attachment, c.text || '', box), ...(url ? { url } : {}) }
    },

    /** {"cmd":"friendship","from":"wx_new","name":"小吴","hello":"你好"} */
    friendship: c => {
      const id = newId('friendship')
      friendships.set(id, {
        id, contactId: ensureContact(c.from, c.name), hello: c.hello || '', timestamp: Math.floor(Date.now() / 1000),
        type: gen.FriendshipType.Receive, ticket: 'ticket-' + id,
      })
      puppet.emit('friendship', { friendshipId: id })
      return { id }
    },

    /** {"cmd":"join","room":ID,"members":["wx_zhou"],"inviter":"wx_zhang"} */
    join: c => {
      const room = mocker.RoomMock.load(c.room)
      const members = (c.members || []).map(id => mocker.ContactMock.load(ensureContact(id, id)))
      room.add(...members).by(mocker.ContactMock.load(c.inviter || room.payload.ownerId))
      return {}
    },

    /** {"cmd":"leave","room":ID,"members":[...],"remover"?:ID} */
    leave: c => {
      const room = mocker.RoomMock.load(c.room)
      room.remove(...(c.members || []).map(id => mocker.ContactMock.load(id))).by(c.remover ? mocker.ContactMock.load(c.remover) : undefined)
      return {}
    },

    /** {"cmd":"topic","room":ID,"topic":"新群名","by":ID} */
    topic: c => {
      mocker.RoomMock.load(c.room).topic(c.topic).by(mocker.ContactMock.load(c.by || 'wx_zhang'))
      return {}
    },

    /** {"cmd":"invite","topic":"幸福里3号楼群","inviter":"wx_zhang"}: a room-invite event */
    invite: c => {
      const id = newId('invitation')
      invitations.set(id, {
        id, inviterId: c.inviter || 'wx_zhang', topic: c.topic || '幸福里3号楼群', avatar: '', invitation: '',
        memberCount: 3, memberIdList: ['wx_zhang', 'wx_wang', 'wx_zhou'], timestamp: Math.floor(Date.now() / 1000),
        receiverId: BOT.id,
      })
      puppet.emit('room-invite', { roomInvitationId: id })
      return { id }
    },

    /**
     * {"cmd":"error","data":"text","shape":"data"|"error"|"none"}
     * 1.x: any shape becomes {"gerror": "<GError JSON>"} (PuppetSkeleton.emit).
     * 0.x: "data" -> {"data": text}; "error" -> an Error object, which JSON.stringify makes "{}"
     *      (what a failing Puppet.reset() emits); "none" -> no payload, an empty string on the wire.
     */
    error: c => {
      const shape = c.shape || 'error'
      if (shape === 'none') puppet.emit('error')
      else if (shape === 'data') puppet.emit('error', { data: c.data || 'mock error' })
      else puppet.emit('error', new Error(c.data || 'mock error'))
      return { shape }
    },

    /** {"cmd":"dirty","type":"Contact"|"Room"|"Message"|"RoomMember"|"Friendship","id":ID} */
    dirty: c => {
      const payloadType = gen.DirtyType[c.type || 'Contact']
      if (payloadType === undefined) throw new Error(`unknown dirty type ${c.type}`)
      puppet.emit('dirty', { payloadType, payloadId: c.id || 'wx_wang' })
      return { payloadType }
    },

    /** {"cmd":"heartbeat","data":"..."} */
    heartbeat: c => { puppet.emit('heartbeat', { data: c.data || 'heartbeat' }); return {} },

    /** {"cmd":"emit","event":"ready","payload":{...}}: any puppet event; no payload -> "" on the wire */
    emit: c => { c.payload === undefined ? puppet.emit(c.event) : puppet.emit(c.event, c.payload); return {} },

    /** {"cmd":"logout"} / {"cmd":"login"}: the WeChat account goes away / comes back */
    logout: async () => { await puppet.logout(); return {} },
    login: () => { mocker.login(mocker.ContactMock.load(BOT.id)); return {} },

    /** {"cmd":"contact","id":"wx_new","name":"小吴","friend":true} */
    contact: c => { mocker.createContact({ id: c.id, name: c.name || c.id, friend: c.friend !== false }); return {} },
  }
}

module.exports = req => main(req).catch(e => {
  process.stderr.write(`serve.js: ${e && e.stack || e}\n`)
  emit({ fatal: String(e && e.message || e) })
  process.exit(1)
})
