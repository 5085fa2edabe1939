using System.Security.Cryptography;
using Tessera.Cluster.Transport;

namespace Tessera.Cluster.Worker;

/// <summary>
/// A model arriving in chunks: written to a temporary file in the cache directory while its SHA-256 is computed,
/// and renamed to its hash only when the whole length arrived and the hash matches. Owns the temporary file.
/// </summary>
internal sealed class ModelUpload : IDisposable
{
    private readonly IncrementalHash _hash = IncrementalHash.CreateHash(HashAlgorithmName.SHA256);
    private readonly FileStream _file;
    private readonly string _tempPath;
    private long _received;

    public ModelUpload(ulong requestId, byte[] expectedHash, long length, string cacheDirectory)
    {
        RequestId = requestId;
        ExpectedHash = expectedHash;
        Length = length;
        _tempPath = Path.Combine(cacheDirectory, $"{Convert.ToHexStringLower(expectedHash)}.part-{Guid.NewGuid():N}");
        _file = new FileStream(_tempPath, FileMode.CreateNew, FileAccess.Write, FileShare.None, 1 << 16);
    }

    public ulong RequestId { get; }

    public byte[] ExpectedHash { get; }

    public long Length { get; }

    public void Append(ReadOnlySpan<byte> chunk)
    {
        if (_received + chunk.Length > Length)
        {
            throw new ClusterException(ClusterErrorCode.Malformed, $"the upload sends more than the {Length} bytes it announced");
        }

        _hash.AppendData(chunk);
        _file.Write(chunk);
        _received += chunk.Length;
    }

    /// <summary>Checks length and hash, then moves the file to <paramref name="finalPath"/>.</summary>
    public void Complete(string finalPath)
    {
        _file.Flush();
        _file.Dispose();
        if (_received != Length)
        {
            throw new ClusterException(ClusterErrorCode.Malformed, $"the upload ended after {_received} of {Length} bytes");
        }

        byte[] actual = _hash.GetHashAndReset();
        if (!CryptographicOperations.FixedTimeEquals(actual, ExpectedHash))
        {
            throw new ClusterException(ClusterErrorCode.HashMismatch, $"the uploaded bytes hash to {Convert.ToHexStringLower(actual)}, not {Convert.ToHexStringLower(ExpectedHash)}");
        }

        File.Move(_tempPath, finalPath, overwrite: true);
    }

    public void Dispose()
    {
        _file.Dispose();
        _hash.Dispose();
        try
        {
            File.Delete(_tempPath);
        }
        catch (IOException)
        {
        }
    }
}
