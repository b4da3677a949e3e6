// scripts/elements.txt names every GStreamer element the repository's pipelines use and the Debian
// package it comes with; scripts/setup.sh installs those packages and checks each element. A pipeline
// that names an element missing from the list would work here and fail on a clean machine.
import test from 'ava'
import { spawnSync } from 'child_process'
import * as fs from 'fs'
import * as path from 'path'
import { ROOT } from './helpers'

/** element -> its package, and whether it is optional (used where the system has it) */
function listed(): Map<string, { pkg: string, optional: boolean }> {
  const text = fs.readFileSync(path.join(ROOT, 'scripts', 'elements.txt'), 'utf8')
  return new Map(text.split('\n').filter(l => l.trim() && !l.startsWith('#'))
    .map(l => l.trim().split(/\s+/)).map(([name, pkg, optional]) => [name!, { pkg: pkg!, optional: !!optional?.startsWith('optional') }]))
}

/** every element factory this machine has (without our plugin) */
function installed(): Set<string> {
  const env = { ...process.env }
  delete env.GST_PLUGIN_PATH
  const out = spawnSync('gst-inspect-1.0', [], { env, encoding: 'utf8' }).stdout
  return new Set([...out.matchAll(/^[^ :]+: +([^ :]+): /gm)].map(m => m[1]!))
}

function files(dir: string): string[] {
  return fs.readdirSync(dir, { withFileTypes: true }).flatMap(e => e.isDirectory()
    ? files(path.join(dir, e.name))
    : /\.(ts|py|sh|md)$/.test(e.name) ? [path.join(dir, e.name)] : [])
}

/** words in pipeline position: after a "!", before one (with properties between), or made by name */
function namedInPipelines(text: string): Set<string> {
  const names = new Set<string>()
  for (const m of text.matchAll(/!\s*([a-z][a-z0-9_]*)\b/g))
    names.add(m[1]!)
  for (const m of text.matchAll(/\b([a-z][a-z0-9_]*)(?:\s+[a-z][a-z0-9-]*=[^\s!]+)*\s*!/g))
    names.add(m[1]!)
  for (const m of text.matchAll(/ElementFactory\.make\(\s*'([a-z0-9_]+)'|\bmake\('([a-z0-9_]+)'/g))
    names.add((m[1] ?? m[2])!)
  return names
}

test('every element the demo, recipes, examples, bench and tests name is in scripts/elements.txt, and exists here', t => {
  const list = listed()
  const machine = installed()
  const used = new Map<string, string>()
  const sources = ['test', 'scripts', 'examples', 'lib'].flatMap(d => files(path.join(ROOT, d)))
    .concat([path.join(ROOT, 'docs', 'recipes.md')])
  for (const file of sources) {
    for (const name of namedInPipelines(fs.readFileSync(file, 'utf8'))) {
      if (machine.has(name))
        used.set(name, path.relative(ROOT, file))
    }
  }
  t.true(used.size >= 20, `only ${used.size} elements found: the scan is broken`)
  for (const [name, file] of used)
    t.true(list.has(name), `${file} uses ${name}, which scripts/elements.txt does not list with its package`)
  for (const [name, { pkg, optional }] of list)
    t.true(optional || machine.has(name), `${name} (from ${pkg}) is listed but not on this machine`)
})
