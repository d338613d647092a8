// Preloaded into the offline audit verifier by its test: any attempt to reach the network fails the run.
const net = require('node:net');
const dns = require('node:dns');
const refuse = () => {
  throw new Error('offline verification must not use the network');
};
net.Socket.prototype.connect = refuse;
net.connect = refuse;
net.createConnection = refuse;
dns.lookup = refuse;
dns.resolve = refuse;
globalThis.fetch = refuse;
