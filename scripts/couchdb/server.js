// A CouchDB-protocol server for tests: express-pouchdb over PouchDB in
// memory, on 127.0.0.1. Where pouchdb-server and CouchDB disagree in ways
// kivik's couch driver or our tests notice, it answers as CouchDB does:
//   - GET /_up answers;
//   - ETag is the document revision (express sends a weak hash of the body,
//     which kivik would read as the revision);
//   - index deletion accepts a design document name without "_design/",
//     and a missing index is a 404, not a 500;
//   - deleting a missing database is a 404, and an illegal name a 400.
// Usage: node server.js [port] (0 picks a free port); it prints
// "listening on <url>" when ready.
'use strict';
const os = require('os');
const fs = require('fs');
const path = require('path');
const express = require('express');
const PouchDB = require('pouchdb-core')
  .plugin(require('pouchdb-adapter-memory'))
  .plugin(require('pouchdb-adapter-http'))
  .plugin(require('pouchdb-mapreduce'))
  .plugin(require('pouchdb-replication'));

const port = Number(process.argv[2] || process.env.PORT || 0);
const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'assetops-pouch-'));
const DB = PouchDB.defaults({ adapter: 'memory', prefix: dir + path.sep });

const app = express();
app.get('/_up', (req, res) => res.json({ status: 'ok' }));
const notFound = (res, reason) => res.status(404).json({ error: 'not_found', reason });

app.use((req, res, next) => {
  const setHeader = res.setHeader;
  res.setHeader = function (name, value) {
    if (String(name).toLowerCase() === 'etag') return this;
    return setHeader.call(this, name, value);
  };
  const send = res.send;
  res.send = function (body) {
    try {
      const doc = JSON.parse(Buffer.isBuffer(body) ? body.toString() : body);
      const rev = doc && !Array.isArray(doc) && (doc._rev || doc.rev);
      if (typeof rev === 'string') setHeader.call(this, 'ETag', '"' + rev + '"');
    } catch (e) { /* not JSON: no ETag */ }
    return send.call(this, body);
  };
  next();
});

app.use(async (req, res, next) => {
  try {
    const path = req.url.split('?')[0];
    const db = path.match(/^\/([^/]+)\/?$/);
    if (db && (req.method === 'PUT' || req.method === 'DELETE')) {
      const name = decodeURIComponent(db[1]);
      if (!name.startsWith('_') && !/^[a-z][a-z0-9_$()+/-]*$/.test(name)) {
        return res.status(400).json({ error: 'illegal_database_name', reason: 'Name: ' + name });
      }
      if (req.method === 'DELETE' && DB.allDbs && !(await DB.allDbs()).includes(name)) {
        return notFound(res, 'Database does not exist.');
      }
    }
    const idx = req.method === 'DELETE' && path.match(/^\/([^/]+)\/_index\/([^/]+)\/json\/(.+)$/);
    if (idx) {
      let ddoc = decodeURIComponent(idx[2]);
      if (!ddoc.startsWith('_design/')) ddoc = '_design/' + ddoc;
      const name = decodeURIComponent(idx[3]);
      let views;
      try {
        views = (await new DB(decodeURIComponent(idx[1])).get(ddoc)).views || {};
      } catch (e) {
        return notFound(res, 'Index not found');
      }
      if (!views[name]) return notFound(res, 'Index not found');
      req.url = req.originalUrl = '/' + idx[1] + '/_index/' + encodeURIComponent(ddoc) + '/json/' + idx[3];
    }
    next();
  } catch (e) {
    next(e);
  }
});

app.use('/', require('express-pouchdb')(DB, {
  inMemoryConfig: true,
  logPath: path.join(dir, 'log.txt'),
  mode: 'fullCouchDB',
  overrideMode: { exclude: ['routes/fauxton'] },
}));

const server = app.listen(port, '127.0.0.1', () => {
  console.log('listening on http://127.0.0.1:' + server.address().port + '/');
});
const stop = () => server.close(() => { fs.rmSync(dir, { recursive: true, force: true }); process.exit(0); });
process.on('SIGTERM', stop);
process.on('SIGINT', stop);
