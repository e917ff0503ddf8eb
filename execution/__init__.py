"""Running GraphQL operations: preparing documents, planning, the engine, graphql-core's path."""
