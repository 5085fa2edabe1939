using System.Security.Cryptography;

namespace Tessera.Cluster.Coordinator;

/// <summary>A model file to ship, named by the SHA-256 of its bytes (the key workers cache it under).</summary>
public sealed record ModelFile(string Path, byte[] Hash, long Length)
{
    public string HashHex => Convert.ToHexStringLower(Hash);

    public static ModelFile FromPath(string path)
    {
        using var stream = File.OpenRead(path);
        return new ModelFile(path, SHA256.HashData(stream), stream.Length);
    }
}
