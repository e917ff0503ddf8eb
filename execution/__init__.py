"""Running GraphQL operations: preparing documents, planning, the fast engine and graphql-core's path."""  # noqa: E501
