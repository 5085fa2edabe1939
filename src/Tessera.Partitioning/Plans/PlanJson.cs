using System.Text.Json;
using System.Text.Json.Serialization;

namespace Tessera.Partitioning.Plans;

/// <summary>The JSON settings of plan and cluster files, and one-line messages for what the parser rejects.</summary>
internal static class PlanJson
{
    public static JsonSerializerOptions Options { get; } = new()
    {
        PropertyNamingPolicy = JsonNamingPolicy.CamelCase,
        WriteIndented = true,
        UnmappedMemberHandling = JsonUnmappedMemberHandling.Disallow,
        DefaultIgnoreCondition = JsonIgnoreCondition.WhenWritingNull,
        AllowTrailingCommas = false,
        ReadCommentHandling = JsonCommentHandling.Skip,
    };

    public static T Parse<T>(string text, string what, string path)
        where T : class
    {
        try
        {
            return JsonSerializer.Deserialize<T>(text, Options) ?? throw new PartitionException($"{what} '{path}' holds null");
        }
        catch (JsonException e)
        {
            throw new PartitionException($"{what} '{path}' is not valid: {Describe(e)}", e);
        }
    }

    public static string ReadFile(string path, string what)
    {
        try
        {
            return File.ReadAllText(path);
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            throw new PartitionException($"cannot read {what} '{path}': {e.Message}", e);
        }
    }

    // System.Text.Json's messages name CLR types and end with a position; keep the gist and say where in plain words.
    private static string Describe(JsonException e)
    {
        string message = e.Message;
        int cut = message.IndexOf(" Path: ", StringComparison.Ordinal);
        if (cut >= 0) message = message[..cut];
        message = message
            .Replace("System.Int64", "an integer", StringComparison.Ordinal)
            .Replace("System.Int32", "an integer", StringComparison.Ordinal)
            .Replace("System.Double", "a number", StringComparison.Ordinal)
            .Replace("System.String", "a string", StringComparison.Ordinal)
            .Replace("Tessera.Partitioning.Planning.", string.Empty, StringComparison.Ordinal)
            .Replace("Tessera.Partitioning.Plans.", string.Empty, StringComparison.Ordinal)
            .TrimEnd('.');
        string where = e.Path is { Length: > 1 } p ? $" at {p}" : string.Empty;
        string line = e.LineNumber is { } l ? $" (line {l + 1})" : string.Empty;
        return $"{message}{where}{line}";
    }
}
