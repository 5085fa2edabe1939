using System.Text.Json;

namespace Tessera.Batch.Results;

/// <summary>The JSON settings of the journal and the manifest: snake_case names, one line per journal entry.</summary>
internal static class BatchJson
{
    public static JsonSerializerOptions Line { get; } = new()
    {
        PropertyNamingPolicy = JsonNamingPolicy.SnakeCaseLower,
        TypeInfoResolver = BatchJsonContext.Default,
    };

    public static JsonSerializerOptions Indented { get; } = new(Line) { WriteIndented = true };
}
