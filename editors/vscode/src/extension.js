// The SPL extension: starts `spl lsp` (the `spl.path` setting) as a language server over stdio
// for `.spl` files, passing the `spl.profile`, `spl.sample` and `spl.geoip` settings.
"use strict";

const vscode = require("vscode");
const { LanguageClient, TransportKind } = require("vscode-languageclient/node");

let client;

function settings() {
  const c = vscode.workspace.getConfiguration("spl");
  return {
    profile: c.get("profile") || null,
    sample: c.get("sample") || null,
    geoip: c.get("geoip") || null,
  };
}

function activate(context) {
  const command = vscode.workspace.getConfiguration("spl").get("path") || "spl";
  const server = { command, args: ["lsp"], transport: TransportKind.stdio };
  client = new LanguageClient(
    "spl",
    "SPL language server",
    { run: server, debug: server },
    {
      documentSelector: [{ language: "spl" }],
      initializationOptions: settings(),
      synchronize: { configurationSection: "spl" },
    }
  );
  context.subscriptions.push({ dispose: () => client && client.stop() });
  return client.start();
}

function deactivate() {
  return client ? client.stop() : undefined;
}

module.exports = { activate, deactivate };
