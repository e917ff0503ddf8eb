// PostGraphile's settings that its command line cannot pass (read from the working
// directory, bench/postgraphile/): the connection-filter plugin (appended on the command
// line) filters a connection by a related row, as the peer's queries filter pins by their
// board's privacy (bench/postgraphile/queries/).
module.exports = {
  options: {
    graphileBuildOptions: { connectionFilterRelations: true },
  },
};
