namespace Tessera.Cli.LoadGen;

/// <summary>What came back for one call on an <see cref="Http2UnaryConnection"/>: statuses, and whether the body was one whole message.</summary>
internal sealed class UnaryAnswer(int stream)
{
    private const int PrefixBytes = 5; // compressed flag, then the message length (big endian)

    private long _bytes;
    private ulong _prefix;

    public int Stream { get; } = stream;

    public int? HttpStatus { get; set; }

    public string? GrpcStatus { get; set; }

    /// <summary>The RST_STREAM error code, when the server reset the call's stream.</summary>
    public uint? ResetCode { get; set; }

    public bool Ended { get; set; }

    /// <summary>Whether the body was exactly one uncompressed length-prefixed message.</summary>
    public bool WholeMessage => _bytes >= PrefixBytes && _prefix >> 32 == 0 && _bytes == PrefixBytes + (long)(_prefix & uint.MaxValue);

    /// <summary>Counts body bytes; only the prefix is looked at.</summary>
    public void OnData(ReadOnlySpan<byte> data)
    {
        for (int i = 0; _bytes + i < PrefixBytes && i < data.Length; i++)
        {
            _prefix = (_prefix << 8) | data[i];
        }

        _bytes += data.Length;
    }
}
