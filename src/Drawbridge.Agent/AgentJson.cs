using System.Text.Json.Serialization;
using Drawbridge.Agent.Enrollment;
using Drawbridge.Agent.Sync;

namespace Drawbridge.Agent;

[JsonSourceGenerationOptions(System.Text.Json.JsonSerializerDefaults.Web, WriteIndented = true)]
[JsonSerializable(typeof(AgentIdentity))]
[JsonSerializable(typeof(PersistedState))]
internal sealed partial class AgentJson : JsonSerializerContext;
