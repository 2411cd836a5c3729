// The part of GitLab's GraphQL schema the workspaces API needs, with GitLab's type, field and argument
// names (doc/api/graphql/reference), deprecated arguments included so older clients keep working.
export const WORKSPACES_SDL = /* GraphQL */ `
schema {
  query: Query
  mutation: Mutation
}

type Query {
  "The currently authenticated GitLab user."
  currentUser: CurrentUser
  "Find a workspace."
  workspace(id: RemoteDevelopmentWorkspaceID!): Workspace
  "Find workspaces across the entire instance. Only instance admins get any."
  workspaces(
    ids: [RemoteDevelopmentWorkspaceID!]
    userIds: [UserID!]
    projectIds: [ProjectID!]
    agentIds: [ClustersAgentID!]
    actualStates: [String!]
  ): WorkspaceConnection
  "Find a project."
  project(fullPath: ID!): Project
  "Find a group."
  group(fullPath: ID!): Group
}

type Mutation {
  workspaceCreate(input: WorkspaceCreateInput!): WorkspaceCreatePayload
  workspaceUpdate(input: WorkspaceUpdateInput!): WorkspaceUpdatePayload
  namespaceCreateRemoteDevelopmentClusterAgentMapping(
    input: NamespaceCreateRemoteDevelopmentClusterAgentMappingInput!
  ): NamespaceCreateRemoteDevelopmentClusterAgentMappingPayload
}

type CurrentUser {
  id: UserID!
  username: String!
  name: String!
  "Web URL of the user."
  webUrl: String!
  "Workspaces owned by the current user."
  workspaces(
    ids: [RemoteDevelopmentWorkspaceID!]
    projectIds: [ProjectID!]
    agentIds: [ClustersAgentID!]
    actualStates: [String!]
  ): WorkspaceConnection
}

type UserCore {
  id: UserID!
  username: String!
  name: String!
  "Web URL of the user."
  webUrl: String!
}

type Group {
  id: ID!
  fullPath: ID!
  name: String!
  "Web URL of the group."
  webUrl: String!
  "Cluster agents of this group's projects, or mapped to it, for workspaces."
  workspacesClusterAgents(filter: NamespaceClusterAgentFilter!): ClusterAgentConnection
}

enum NamespaceClusterAgentFilter {
  "Agents mapped to this namespace."
  DIRECTLY_MAPPED
  "Agents mapped to this namespace or one above it."
  AVAILABLE
  "Agents in projects of this namespace that are not mapped to it."
  UNMAPPED
  "Every agent in projects of this namespace."
  ALL
}

type Project {
  id: ID!
  fullPath: ID!
  name: String!
  "Web URL of the project."
  webUrl: String
  "URL to connect to the project via HTTPS."
  httpUrlToRepo: String
  clusterAgents: ClusterAgentConnection
}

type ClusterAgent {
  id: ClustersAgentID!
  name: String!
  createdAt: Time
  project: Project
  workspaces: WorkspaceConnection
}

type ClusterAgentConnection {
  count: Int!
  nodes: [ClusterAgent]
}

type Workspace {
  id: RemoteDevelopmentWorkspaceID!
  name: String!
  namespace: String!
  clusterAgent: ClusterAgent!
  projectId: ID!
  user: UserCore!
  desiredState: String!
  desiredStateUpdatedAt: Time!
  actualState: String!
  actualStateUpdatedAt: Time!
  respondedToAgentAt: Time
  url: String!
  projectRef: String!
  devfileRef: String! @deprecated(reason: "Field is renamed to project_ref. Deprecated in GitLab 17.8.")
  devfilePath: String
  devfile: String!
  processedDevfile: String!
  deploymentResourceVersion: Int
  forceIncludeAllResources: Boolean!
  editor: String! @deprecated(reason: "Field is not used. Deprecated in GitLab 17.5.")
  workspaceVariables: WorkspaceVariableConnection
  createdAt: Time!
  updatedAt: Time!
}

type WorkspaceConnection {
  count: Int!
  nodes: [Workspace]
  edges: [WorkspaceEdge]
  pageInfo: PageInfo!
}

type WorkspaceEdge {
  cursor: String!
  node: Workspace
}

type PageInfo {
  hasNextPage: Boolean!
  hasPreviousPage: Boolean!
  startCursor: String
  endCursor: String
}

type WorkspaceVariable {
  id: ID!
  key: String
  value: String
  variableType: WorkspaceVariableType
  createdAt: Time!
  updatedAt: Time!
}

type WorkspaceVariableConnection {
  nodes: [WorkspaceVariable]
}

enum WorkspaceVariableType {
  ENVIRONMENT
  FILE
}

enum WorkspaceVariableInputTypeEnum {
  ENVIRONMENT
  FILE
}

input WorkspaceVariableInput {
  key: String!
  value: String!
  type: WorkspaceVariableInputTypeEnum @deprecated(reason: "Use variableType instead. Deprecated in GitLab 17.9.")
  variableType: WorkspaceVariableType = ENVIRONMENT
}

input WorkspaceCreateInput {
  clientMutationId: String
  clusterAgentId: ClustersAgentID!
  desiredState: String!
  devfilePath: String
  devfileRef: String @deprecated(reason: "Argument is renamed to project_ref. Deprecated in GitLab 17.8.")
  editor: String @deprecated(reason: "Argument is not used. Deprecated in GitLab 17.5.")
  maxHoursBeforeTermination: Int @deprecated(reason: "Field is not used. Deprecated in GitLab 17.9.")
  projectId: ProjectID!
  projectRef: String
  variables: [WorkspaceVariableInput!] @deprecated(reason: "Argument is renamed to workspace_variables. Deprecated in GitLab 18.0.")
  workspaceVariables: [WorkspaceVariableInput!]
}

type WorkspaceCreatePayload {
  clientMutationId: String
  errors: [String!]!
  workspace: Workspace
}

input WorkspaceUpdateInput {
  clientMutationId: String
  id: RemoteDevelopmentWorkspaceID!
  desiredState: String!
}

type WorkspaceUpdatePayload {
  clientMutationId: String
  errors: [String!]!
  workspace: Workspace
}

input NamespaceCreateRemoteDevelopmentClusterAgentMappingInput {
  clientMutationId: String
  clusterAgentId: ClustersAgentID!
  namespaceId: NamespaceID!
}

type NamespaceCreateRemoteDevelopmentClusterAgentMappingPayload {
  clientMutationId: String
  errors: [String!]!
  namespaceClusterAgentMapping: NamespaceClusterAgentMapping
}

type NamespaceClusterAgentMapping {
  id: ID!
  clusterAgentId: ClustersAgentID!
  namespaceId: NamespaceID!
  creatorId: UserID
  createdAt: Time
}
`;
