// Writes plugin/helper/layout.h from lib/protocol/layout.ts (the wire's records, declared once).
// Run after changing the table: node dist/scripts/gen-layout.js
import * as fs from 'fs'
import * as path from 'path'
import { layoutHeader } from '../lib/protocol/layout'

const out = path.join(__dirname, '..', '..', 'plugin', 'helper', 'layout.h')
fs.writeFileSync(out, layoutHeader())
process.stdout.write(`wrote ${out}\n`)
