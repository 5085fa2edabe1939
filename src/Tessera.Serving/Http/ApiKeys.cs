using System.Diagnostics;
using System.Security.Cryptography;
using System.Text;
using Microsoft.Extensions.Logging;

namespace Tessera.Serving.Http;

/// <summary>
/// The bearer keys of <c>--api-key-file</c>: one key per line (blank lines and lines starting with # ignored),
/// several at once so keys can be rotated. The file is read again when it changes (looked at, at most once a
/// second, as requests arrive); a file that cannot be read or holds no key then keeps the keys it had. Keys are
/// compared by their SHA-256 in constant time.
/// </summary>
internal sealed class ApiKeys
{
    private static readonly long s_recheckTicks = Stopwatch.Frequency;

    private readonly string _path;
    private readonly ILogger _logger;
    private readonly object _gate = new();
    private volatile byte[][] _hashes;
    private (DateTime Written, long Length) _version;
    private long _checked;

    private ApiKeys(string path, ILogger logger, byte[][] hashes, (DateTime, long) version)
    {
        _path = path;
        _logger = logger;
        _hashes = hashes;
        _version = version;
        _checked = Stopwatch.GetTimestamp();
    }

    /// <summary>Reads the key file; an <see cref="InvalidDataException"/> or IO exception with one line when it has no key or cannot be read.</summary>
    public static ApiKeys Load(string path, ILogger logger)
    {
        var version = Version(path);
        return new ApiKeys(path, logger, Read(path), version);
    }

    public int Count => _hashes.Length;

    /// <summary>Whether <paramref name="key"/> is one of the file's keys (as the file is now, within a second).</summary>
    public bool Accepts(ReadOnlySpan<char> key)
    {
        Refresh();
        Span<byte> hash = stackalloc byte[SHA256.HashSizeInBytes];
        byte[] bytes = Encoding.UTF8.GetBytes(key.ToArray());
        SHA256.HashData(bytes, hash);
        bool found = false;
        foreach (byte[] known in _hashes)
        {
            found |= CryptographicOperations.FixedTimeEquals(known, hash); // every key compared: no early exit to time
        }

        return found;
    }

    private void Refresh()
    {
        long now = Stopwatch.GetTimestamp();
        long last = Interlocked.Read(ref _checked);
        if (now - last < s_recheckTicks || Interlocked.CompareExchange(ref _checked, now, last) != last)
        {
            return;
        }

        lock (_gate)
        {
            try
            {
                var version = Version(_path);
                if (version == _version)
                {
                    return;
                }

                _hashes = Read(_path);
                _version = version;
                _logger.ApiKeysReloaded(_path, _hashes.Length);
            }
            catch (Exception e) when (e is IOException or UnauthorizedAccessException or InvalidDataException)
            {
                _logger.ApiKeysNotReloaded(_path, e.Message);
            }
        }
    }

    private static (DateTime, long) Version(string path)
    {
        var info = new FileInfo(path);
        return info.Exists ? (info.LastWriteTimeUtc, info.Length) : throw new FileNotFoundException($"the API key file '{path}' does not exist");
    }

    private static byte[][] Read(string path)
    {
        var hashes = File.ReadAllLines(path)
            .Select(line => line.Trim())
            .Where(line => line.Length > 0 && !line.StartsWith('#'))
            .Select(key => SHA256.HashData(Encoding.UTF8.GetBytes(key)))
            .ToArray();
        return hashes.Length > 0 ? hashes : throw new InvalidDataException($"the API key file '{path}' holds no key (one per line; # starts a comment)");
    }
}
