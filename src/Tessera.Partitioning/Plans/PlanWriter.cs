using System.Security.Cryptography;
using System.Text.Json;

namespace Tessera.Partitioning.Plans;

/// <summary>Writes plan.json: indented, camelCase, fields in a fixed order, so the same plan gives the same bytes.</summary>
public static class PlanWriter
{
    public const string FileName = "plan.json";

    public static string Serialize(PlanDocument plan) => JsonSerializer.Serialize(plan, PlanJson.Options) + "\n";

    public static void Write(PlanDocument plan, string path)
    {
        string? dir = Path.GetDirectoryName(Path.GetFullPath(path));
        if (dir is not null) Directory.CreateDirectory(dir);
        File.WriteAllText(path, Serialize(plan));
    }

    /// <summary>Lowercase hex SHA-256 of some bytes, as plan files record them.</summary>
    public static string Sha256(ReadOnlySpan<byte> bytes) => Convert.ToHexStringLower(SHA256.HashData(bytes));

    public static string Sha256OfFile(string path)
    {
        using var stream = File.OpenRead(path);
        return Convert.ToHexStringLower(SHA256.HashData(stream));
    }
}
