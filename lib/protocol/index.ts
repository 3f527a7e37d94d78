/** ut_live version 1: the pure protocol layer (bytes in, bytes out). Specification: ./ut_live.md */
export * from './constants.js'
export * from './bytes.js'
export * from './result.js'
export * from './sha.js'
export * from './chain.js'
export * from './head.js'
export * from './info.js'
export * from './messages.js'
