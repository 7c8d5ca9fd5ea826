/**
 * node:http as its CommonJS module. Importing it as an ES module evaluates every export, and its
 * WebSocket, CloseEvent and MessageEvent getters load undici, which the operator never uses: 2.5 MB
 * of its idle RSS with 100 finished runbooks (87 -> 84.5 MB; 9 MB in a bare node).
 */
export const nodeHttp = process.getBuiltinModule('node:http');
