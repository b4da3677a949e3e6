// lib/ compiles strict (tsconfig: strict, noImplicitAny) against the hand-kept types of typings/ for
// node-gtk and the GI namespaces it calls (GObject, Gst, GstBase; GstAllocators and GstVideo are used
// from C only). This checks that nothing opts out with an explicit `any` at a boundary.
import test from 'ava'
import * as fs from 'fs'
import * as path from 'path'
import { ROOT } from './helpers'

function files(dir: string): string[] {
  return fs.readdirSync(dir, { withFileTypes: true }).flatMap(e =>
    e.isDirectory() ? files(path.join(dir, e.name)) : e.name.endsWith('.ts') ? [path.join(dir, e.name)] : [])
}

test('no explicit any in lib/, typings/ or examples/', t => {
  const offenders: string[] = []
  for (const f of ['lib', 'typings', 'examples'].flatMap(d => files(path.join(ROOT, d)))) {
    fs.readFileSync(f, 'utf8').split('\n').forEach((line, i) => {
      const code = line.replace(/\/\/.*$/, '').replace(/'[^']*'|"[^"]*"|`[^`]*`/g, '')
      if (/(:\s*any\b|\bas any\b|<any>|\bany\[\])/.test(code))
        offenders.push(`${path.relative(ROOT, f)}:${i + 1}: ${line.trim()}`)
    })
  }
  t.deepEqual(offenders, [])
})
