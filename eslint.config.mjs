// ESLint (typescript-eslint's recommended rules) over the TypeScript sources; `npm test` runs it
// after the type check and the layering lint (scripts/lint.mjs). Every eslint-disable comment in
// the code names a rule that runs here, and an unused one is an error.
import tseslint from 'typescript-eslint'

export default tseslint.config(
  { ignores: ['dist/**', 'node_modules/**', '.scratch/**', 'lib/web/shims/**', '**/*.d.ts'] },
  ...tseslint.configs.recommended,
  {
    files: ['**/*.ts'],
    linterOptions: { reportUnusedDisableDirectives: 'error' },
    rules: {
      // `any` is allowed only where a disable comment says so (WebTorrent's untyped objects).
      '@typescript-eslint/no-explicit-any': 'error',
      '@typescript-eslint/no-unused-vars': ['error', { argsIgnorePattern: '^_', varsIgnorePattern: '^_', caughtErrors: 'none' }]
    }
  }
)
