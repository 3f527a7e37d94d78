module.exports = undefined
