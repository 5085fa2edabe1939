namespace Tessera.Cluster.Transport.Messages;

/// <summary>HELLO payload: <c>magic "TSRA" | u16 version | u16 role | 16-byte client id | 32-byte client nonce</c>.</summary>
public sealed record HelloMessage(ushort Version, ConnectionRole Role, Guid ClientId, byte[] Nonce)
{
    public WireWriter Write() => new WireWriter().Bytes(Protocol.Magic).U16(Version).U16((ushort)Role).Bytes(ClientId.ToByteArray()).Bytes(Nonce);

    public static HelloMessage Read(ReadOnlySpan<byte> payload)
    {
        var r = new WireReader(payload);
        CheckMagic(r.Bytes(4));
        ushort version = r.U16();
        if (version != Protocol.Version)
        {
            // Checked before the rest so that a future version with another layout still gets a clear refusal.
            throw new ClusterException(ClusterErrorCode.VersionMismatch, $"protocol version {version} is not supported (this side speaks {Protocol.Version})");
        }

        var role = (ConnectionRole)r.U16();
        if (!Enum.IsDefined(role))
        {
            throw new ClusterException(ClusterErrorCode.Malformed, $"unknown connection role {(int)role}");
        }

        var id = new Guid(r.Bytes(16));
        byte[] nonce = r.Bytes(Protocol.NonceBytes).ToArray();
        r.End();
        return new HelloMessage(version, role, id, nonce);
    }

    internal static void CheckMagic(ReadOnlySpan<byte> magic)
    {
        if (!magic.SequenceEqual(Protocol.Magic))
        {
            throw new ClusterException(ClusterErrorCode.Malformed, "the peer did not start with the Tessera magic (not a Tessera peer)");
        }
    }
}
