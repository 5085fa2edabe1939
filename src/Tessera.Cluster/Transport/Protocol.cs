namespace Tessera.Cluster.Transport;

/// <summary>Constants of the wire protocol (docs/protocol.md).</summary>
public static class Protocol
{
    /// <summary>Bumped on any incompatible change; peers of different versions refuse each other in the handshake.</summary>
    public const ushort Version = 9;

    public const int NonceBytes = 32;
    public const int ProofBytes = 32;
    public const int HashBytes = 32;

    /// <summary>Model upload chunk size (the payload of one ModelChunk frame).</summary>
    public const int ModelChunkBytes = 1 << 20;

    /// <summary>Largest frame read before authentication: READY, whose worker name has a u16 length, with room to spare.</summary>
    public const uint MaxHandshakeFrameBytes = 80 << 10;

    /// <summary>"TSRA": the first four payload bytes of HELLO and CHALLENGE.</summary>
    public static ReadOnlySpan<byte> Magic => "TSRA"u8;
}
