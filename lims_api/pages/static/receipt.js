// Receipt verification in the browser (kuaijian-receipt/1), trusting nothing but WebCrypto:
// RFC 8785 JCS, SHA-256, Ed25519, RFC 9162 inclusion proofs. Exposes window.kuaijianReceipt.
(function () {
  "use strict";

  // RFC 8785: numbers as ECMAScript serialises them, strings as JSON.stringify writes them,
  // object members sorted by UTF-16 code units, no whitespace.
  function jcs(value) {
    if (value === null || typeof value === "boolean") { return JSON.stringify(value); }
    if (typeof value === "number") {
      if (!isFinite(value)) { throw new Error("JCS: " + value + " is not a JSON number"); }
      return JSON.stringify(value);
    }
    if (typeof value === "string") {
      if (/[\ud800-\udbff](?![\udc00-\udfff])|(^|[^\ud800-\udbff])[\udc00-\udfff]/.test(value)) {
        throw new Error("JCS: string holds a lone surrogate");
      }
      return JSON.stringify(value);
    }
    if (Array.isArray(value)) { return "[" + value.map(jcs).join(",") + "]"; }
    if (typeof value === "object") {
      return "{" + Object.keys(value).sort().map(function (k) { return JSON.stringify(k) + ":" + jcs(value[k]); }).join(",") + "}";
    }
    throw new Error("JCS: " + typeof value + " is not JSON");
  }

  var utf8 = new TextEncoder();

  function hex(bytes) {
    return Array.prototype.map.call(new Uint8Array(bytes), function (b) { return (b < 16 ? "0" : "") + b.toString(16); }).join("");
  }

  function fromHex(text) {
    if (!/^([0-9a-f]{2})*$/.test(text)) { throw new Error("not lowercase hex: " + text); }
    var out = new Uint8Array(text.length / 2);
    for (var i = 0; i < out.length; i++) { out[i] = parseInt(text.substr(i * 2, 2), 16); }
    return out;
  }

  function fromB64url(text) {
    if (!/^[A-Za-z0-9_-]*$/.test(text)) { throw new Error("not base64url"); }
    var b64 = text.replace(/-/g, "+").replace(/_/g, "/") + "===".slice((text.length + 3) % 4);
    var raw = atob(b64);
    var out = new Uint8Array(raw.length);
    for (var i = 0; i < raw.length; i++) { out[i] = raw.charCodeAt(i); }
    return out;
  }

  function concat(parts) {
    var size = parts.reduce(function (n, p) { return n + p.length; }, 0);
    var out = new Uint8Array(size), at = 0;
    parts.forEach(function (p) { out.set(p, at); at += p.length; });
    return out;
  }

  async function sha256(bytes) { return new Uint8Array(await crypto.subtle.digest("SHA-256", bytes)); }

  async function ed25519Verify(publicRaw, sigText, message) {
    var key = await crypto.subtle.importKey("raw", publicRaw, {name: "Ed25519"}, false, ["verify"]);
    return crypto.subtle.verify({name: "Ed25519"}, key, fromB64url(sigText), message);
  }

  async function publicKey(entry) {
    var raw = fromB64url(entry.public_key);
    if (raw.length !== 32 || hex(await sha256(raw)).slice(0, 16) !== entry.kid) {
      throw new Error("kid " + entry.kid + " is not the SHA-256 prefix of its 32-byte public key");
    }
    return raw;
  }

  function withoutSig(doc) {
    var copy = {};
    Object.keys(doc).forEach(function (k) { if (k !== "sig") { copy[k] = doc[k]; } });
    return copy;
  }

  async function node(left, right) { return sha256(concat([new Uint8Array([1]), left, right])); }

  // RFC 9162 §2.1.3.2: the root an audit path implies for the leaf at index in a tree of size.
  async function rootFromInclusion(leaf, index, size, path) {
    if (!(index >= 0 && index < size)) { throw new Error("leaf index " + index + " is not below tree size " + size); }
    var fn = index, sn = size - 1, r = leaf;
    for (var i = 0; i < path.length; i++) {
      if (sn === 0) { throw new Error("inclusion proof has more hashes than a tree of " + size + " needs"); }
      if (fn % 2 === 1 || fn === sn) {
        r = await node(path[i], r);
        while (fn % 2 === 0 && fn !== 0) { fn = Math.floor(fn / 2); sn = Math.floor(sn / 2); }
      } else {
        r = await node(r, path[i]);
      }
      fn = Math.floor(fn / 2); sn = Math.floor(sn / 2);
    }
    if (sn !== 0) { throw new Error("inclusion proof has fewer hashes than a tree of " + size + " needs"); }
    return r;
  }

  async function check(checks, name, work) {
    try {
      checks.push({name: name, ok: true, detail: await work()});
      return true;
    } catch (err) {
      checks.push({name: name, ok: false, detail: err.message || String(err)});
      return false;
    }
  }

  // Every check of protocols/receipt.py, each reported: envelope, gateway_signature, inclusion, tree_head_signature.
  async function verifyReceipt(receipt) {
    var checks = [], envelope = null, digest = null;
    if (!receipt || receipt.format !== "kuaijian-receipt/1") {
      checks.push({name: "format", ok: false, detail: "not a kuaijian-receipt/1 receipt"});
      return {ok: false, checks: checks, envelope: null};
    }
    var parsed = await check(checks, "envelope", async function () {
      envelope = JSON.parse(receipt.envelope);
      if (jcs(envelope) !== receipt.envelope) { throw new Error("the envelope text is not in its canonical (JCS) form, so not as signed"); }
      digest = await sha256(utf8.encode(receipt.envelope));
      return "gateway " + envelope.gateway + " seq " + envelope.seq + ", hash " + hex(digest);
    });
    if (parsed) {
      await check(checks, "gateway_signature", async function () {
        var key = receipt.gateway_key;
        if (key.gateway !== envelope.gateway || key.kid !== envelope.kid) {
          throw new Error("the key is gateway " + key.gateway + " kid " + key.kid + ", the envelope names gateway " + envelope.gateway + " kid " + envelope.kid);
        }
        var ok = await ed25519Verify(await publicKey(key), envelope.sig, utf8.encode(jcs(withoutSig(envelope))));
        if (!ok) { throw new Error("signature of seq " + envelope.seq + " does not verify"); }
        return "signed by gateway " + key.gateway + " key " + key.kid;
      });
      await check(checks, "inclusion", async function () {
        var proof = receipt.inclusion, head = receipt.tree_head;
        if (proof.size !== head.size) { throw new Error("the proof is for tree size " + proof.size + ", the tree head is size " + head.size); }
        var leaf = await sha256(concat([new Uint8Array([0]), digest]));
        var root = hex(await rootFromInclusion(leaf, proof.index, proof.size, proof.path.map(fromHex)));
        if (root !== head.root) { throw new Error("inclusion proof gives root " + root + ", not the signed " + head.root); }
        return "entry " + proof.index + " of the log of " + proof.size + ", root " + head.root;
      });
    }
    await check(checks, "tree_head_signature", async function () {
      var head = receipt.tree_head, key = receipt.lims_key;
      if (head.kid !== key.kid) { throw new Error("tree head kid " + head.kid + " is not the LIMS key " + key.kid); }
      var ok = await ed25519Verify(await publicKey(key), head.sig, utf8.encode(jcs(withoutSig(head))));
      if (!ok) { throw new Error("signature of the tree head of size " + head.size + " does not verify"); }
      return "tree head of size " + head.size + " signed by LIMS key " + head.kid + " at " + head.created_at;
    });
    return {ok: checks.every(function (c) { return c.ok; }), checks: checks, envelope: envelope};
  }

  window.kuaijianReceipt = {jcs: jcs, verifyReceipt: verifyReceipt, hex: hex};
})();
