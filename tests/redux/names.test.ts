/**
 * Names: nothing `raftstep/redux` or `raftstep` exports clashes with an export of `@reduxjs/toolkit`
 * (which re-exports `redux`), nor with each other, so all three can be imported side by side without
 * aliases.
 * Checked on the declarations, types included, with the TypeScript compiler.
 */
import * as path from 'node:path';
import * as ts from 'typescript';

const root = path.resolve(__dirname, '../..');

/** The names each module exports (values and types), by the compiler. */
function exportsOf(specifiers: Record<string, string>): Record<string, string[]> {
  const entry = path.join(root, 'tests/redux/__names_entry__.ts');
  const text = Object.entries(specifiers)
    .map(([k, spec]) => `import * as ${k} from ${JSON.stringify(spec)};\nexport { ${k} };`)
    .join('\n');
  const options: ts.CompilerOptions = {
    target: ts.ScriptTarget.ES2022,
    module: ts.ModuleKind.CommonJS,
    moduleResolution: ts.ModuleResolutionKind.Node10,
    strict: true,
    skipLibCheck: true,
    noEmit: true,
    types: [],
  };
  const host = ts.createCompilerHost(options);
  const read = host.readFile.bind(host);
  host.readFile = (f) => (path.resolve(f) === entry ? text : read(f));
  const exists = host.fileExists.bind(host);
  host.fileExists = (f) => path.resolve(f) === entry || exists(f);
  const program = ts.createProgram([entry], options, host);
  const checker = program.getTypeChecker();
  const source = program.getSourceFile(entry)!;
  const out: Record<string, string[]> = {};
  for (const stmt of source.statements) {
    if (!ts.isImportDeclaration(stmt)) continue;
    const symbol = checker.getSymbolAtLocation(stmt.moduleSpecifier);
    const local = (stmt.importClause!.namedBindings as ts.NamespaceImport).name.text;
    expect(symbol).toBeDefined();
    out[local] = checker.getExportsOfModule(symbol!).map((s) => s.name);
  }
  return out;
}

test('raftstep/redux exports no name of @reduxjs/toolkit or raftstep', () => {
  const e = exportsOf({
    rtk: '@reduxjs/toolkit',
    core: path.join(root, 'src/index'),
    redux: path.join(root, 'src/redux/index'),
  });
  expect(e.rtk!.length).toBeGreaterThan(100);
  expect(e.rtk).toEqual(expect.arrayContaining(['Action', 'Actions', 'Reducer', 'Store', 'Slice', 'Middleware']));
  expect(e.redux!.length).toBeGreaterThan(30);
  expect(e.redux!.filter((n) => e.rtk!.includes(n))).toEqual([]);
  expect(e.redux!.filter((n) => e.core!.includes(n))).toEqual([]);
  // And the core's: its action types are `RaftAction` and `RaftActions`, not RTK's `Action` and `Actions`.
  expect(e.core).toEqual(expect.arrayContaining(['RaftAction', 'RaftActions']));
  expect(e.core!.filter((n) => e.rtk!.includes(n))).toEqual([]);
});
