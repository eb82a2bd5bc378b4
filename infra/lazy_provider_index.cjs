"use strict";
// Preloaded into the jsii Node kernel (infra/node.py). A prebuilt cdktn provider's package main, lib/index.js,
// requires every one of its resource modules when the kernel loads the package (the AWS provider's 2,433: seconds
// of compiling JavaScript and most of the kernel's memory on every synth) for the few dozen resource types the
// stacks use. The package ships lib/lazy-index.js beside it, with the same exports for CommonJS `require` (how the
// kernel loads it) as getters that require a module on first use: the kernel is pointed at that one. Nothing
// changes where the hooks API (Node 22.15 and later) or the lazy index is missing.
const { existsSync } = require("node:fs");
const { fileURLToPath } = require("node:url");
const { registerHooks } = require("node:module");

// The provider's own lib/index.js: under its version and hash folders in jsii's cache, never a package nested in it.
const EAGER_INDEX = /\/@cdktn\/provider-[^/]+\/(?:(?!node_modules\/)[^/]+\/)*lib\/index\.js$/;

if (typeof registerHooks === "function") {
  registerHooks({
    resolve(specifier, context, nextResolve) {
      const resolved = nextResolve(specifier, context);
      if (EAGER_INDEX.test(resolved.url)) {
        const lazy = resolved.url.replace(/index\.js$/, "lazy-index.js");
        if (existsSync(fileURLToPath(lazy))) {
          return { ...resolved, url: lazy };
        }
      }
      return resolved;
    },
  });
}
