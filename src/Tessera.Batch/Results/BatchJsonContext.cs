using System.Text.Json.Serialization;

namespace Tessera.Batch.Results;

/// <summary>
/// The journal's and the manifest's types, serialized by generated code: found by reflection, their first journal line
/// cost the coordinator tens of milliseconds of CPU at every job (the serializer's metadata and its JIT), within the run.
/// </summary>
[JsonSourceGenerationOptions(PropertyNamingPolicy = JsonKnownNamingPolicy.SnakeCaseLower)]
[JsonSerializable(typeof(BatchJournal.Header))]
[JsonSerializable(typeof(BatchJournal.RunLine))]
[JsonSerializable(typeof(ShardEntry))]
[JsonSerializable(typeof(BatchManifest))]
[JsonSerializable(typeof(Dictionary<string, int[]>))]
internal sealed partial class BatchJsonContext : JsonSerializerContext;
