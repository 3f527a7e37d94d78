// Ambient type for the untyped npm package `hypercore` (devDependency, used only by the benchmark).
declare module 'hypercore' {
  const Hypercore: any
  export default Hypercore
}
