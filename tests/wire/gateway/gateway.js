// A WeChat gateway for the wire tests: wechaty-puppet-service's PuppetServer serving
// wechaty-puppet-mock on loopback, without TLS, plus a small HTTP control channel on
// 127.0.0.1 through which a test plays the residents and the leader, reads what the bot
// sent, and takes the gRPC server down and up again.
//
//   node gateway.js WORLD.json
//
// WORLD.json: {"grpc_port": 0, "token": "insecure_…", "heartbeat_ms": 2000,
//              "bot": {"id": "wxid_bot", "name": "团购助手"},
//              "contacts": {"wxid_x": "name", …},
//              "rooms": [{"id": "…@chatroom", "topic": "…", "members": ["wxid_x", …]}]}
// Once both servers listen, one JSON line goes to stdout: {"grpc": PORT, "control": PORT}.
//
// Control channel (JSON in and out):
//   POST /say          {"from": id, "room": id} or {"from": id, "to": id}, "text": "…"
//   GET  /sent         what the bot's account sent: [{"to", "text", "ts"}]
//   GET  /state        {"grpc_up", "logged_in", "starts", "stops", "logins", "heartbeats"}
//                      (each connection of the client stops and starts the puppet)
//   GET  /refused      sends that failed (e.g. "not logged in")
//   POST /grpc/stop    take the gRPC server down (the mock account stays logged in)
//   POST /grpc/start   bring it back on the same port

import { readFileSync } from 'node:fs'
import http from 'node:http'
import net from 'node:net'

import { PuppetServer, log } from 'wechaty-puppet-service'
import { PuppetMock, mock } from 'wechaty-puppet-mock'

log.level(process.env.WECHATY_LOG || 'silent')

const world = JSON.parse(readFileSync(process.argv[2], 'utf-8'))

async function freePort () {
  return new Promise((resolve, reject) => {
    const probe = net.createServer()
    probe.once('error', reject)
    probe.listen(0, '127.0.0.1', () => {
      const { port } = probe.address()
      probe.close(() => resolve(port))
    })
  })
}

const mocker = new mock.Mocker()
const puppet = new PuppetMock({ mocker })

const botUser = mocker.createContact({ id: world.bot.id, name: world.bot.name })
for (const [id, name] of Object.entries(world.contacts || {})) {
  mocker.createContact({ id, name })
}
for (const room of world.rooms || []) {
  if (!room.id.includes('@')) throw new Error(`room id ${room.id} must contain @`)
  mocker.createRoom({ id: room.id, topic: room.topic, memberIdList: room.members })
}

// The account is logged in whenever the puppet starts (the client starts it on connect).
mocker.use(m => {
  const timer = setTimeout(() => {
    if (!puppet.isLoggedIn) m.login(botUser)
  }, world.login_delay_ms ?? 200)
  return () => clearTimeout(timer)
})

const counts = { starts: 0, stops: 0, heartbeats: 0, logins: 0 }
puppet.on('start', () => { counts.starts += 1 })
puppet.on('stop', () => { counts.stops += 1 })
puppet.on('login', () => { counts.logins += 1 })

// What the bot's account sent, in order: the mock turns each send into a message said by
// the logged-in user; a send while logged out fails, as on WeChat.
const sent = []
const refused = []
const sendText = puppet.messageSendText.bind(puppet)
puppet.messageSendText = async (conversationId, text, mentionIdList) => {
  try {
    const id = await sendText(conversationId, text, mentionIdList)
    sent.push({ to: conversationId, text, mentions: mentionIdList || [], ts: Date.now() })
    return id
  } catch (e) {
    refused.push({ to: conversationId, text, error: String(e && e.message), ts: Date.now() })
    throw e
  }
}
const sendFile = puppet.messageSendFile.bind(puppet)
puppet.messageSendFile = async (conversationId, file) => {
  const id = await sendFile(conversationId, file)
  sent.push({ to: conversationId, text: '', file: file.name, ts: Date.now() })
  return id
}

// Heartbeats, as a real gateway's puppet sends them.
setInterval(() => {
  counts.heartbeats += 1
  puppet.emit('heartbeat', { data: 'wire-test heartbeat' })
}, world.heartbeat_ms ?? 2000)

const grpcPort = world.grpc_port || await freePort()
let server = null

async function grpcStart () {
  if (server) return
  server = new PuppetServer({
    endpoint: `127.0.0.1:${grpcPort}`,
    puppet,
    token: world.token,
    tls: { disable: true },
  })
  await server.start()
}

async function grpcStop () {
  if (!server) return
  const old = server
  server = null
  await old.stop()
}

function body (req) {
  return new Promise((resolve, reject) => {
    const chunks = []
    req.on('data', c => chunks.push(c))
    req.on('end', () => {
      const text = Buffer.concat(chunks).toString('utf-8')
      try { resolve(text ? JSON.parse(text) : {}) } catch (e) { reject(e) }
    })
    req.on('error', reject)
  })
}

function say ({ from, room, to, text }) {
  const talker = mocker.ContactMock.load(from)
  const conversation = room ? mocker.RoomMock.load(room) : mocker.ContactMock.load(to)
  const before = new Set(mocker.cacheMessagePayload.keys())
  talker.say(text).to(conversation)
  const id = [...mocker.cacheMessagePayload.keys()].find(k => !before.has(k))
  return { id }
}

const routes = {
  'POST /say': async req => say(await body(req)),
  'GET /sent': async () => sent,
  'GET /refused': async () => refused,
  'GET /state': async () => ({
    grpc_up: server !== null,
    logged_in: puppet.isLoggedIn,
    ...counts,
  }),
  'POST /grpc/stop': async () => { await grpcStop(); return { grpc_up: false } },
  'POST /grpc/start': async () => { await grpcStart(); return { grpc_up: true } },
}

const control = http.createServer(async (req, res) => {
  const route = routes[`${req.method} ${req.url}`]
  try {
    if (!route) {
      res.writeHead(404).end('{"error": "no such route"}')
      return
    }
    const result = await route(req)
    res.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify(result))
  } catch (e) {
    res.writeHead(500, { 'content-type': 'application/json' })
      .end(JSON.stringify({ error: String(e && e.stack) }))
  }
})

await grpcStart()
await new Promise(resolve => control.listen(world.control_port || 0, '127.0.0.1', resolve))
process.stdout.write(JSON.stringify({ grpc: grpcPort, control: control.address().port }) + '\n')

async function shutdown () {
  control.close()
  await grpcStop().catch(() => {})
  process.exit(0)
}
process.on('SIGTERM', shutdown)
process.on('SIGINT', shutdown)
