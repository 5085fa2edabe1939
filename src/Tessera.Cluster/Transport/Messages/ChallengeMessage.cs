namespace Tessera.Cluster.Transport.Messages;

/// <summary>
/// CHALLENGE payload: <c>magic "TSRA" | u16 version | 32-byte server nonce | 32-byte server proof</c>, the proof being
/// HMAC-SHA256(token, "tessera-server" | client nonce | server nonce | client id), so the client knows the server
/// holds the token too.
/// </summary>
public sealed record ChallengeMessage(ushort Version, byte[] Nonce, byte[] Proof)
{
    public WireWriter Write() => new WireWriter().Bytes(Protocol.Magic).U16(Version).Bytes(Nonce).Bytes(Proof);

    public static ChallengeMessage Read(ReadOnlySpan<byte> payload)
    {
        var r = new WireReader(payload);
        HelloMessage.CheckMagic(r.Bytes(4));
        ushort version = r.U16();
        if (version != Protocol.Version)
        {
            throw new ClusterException(ClusterErrorCode.VersionMismatch, $"the worker speaks protocol version {version}, we speak {Protocol.Version}");
        }

        byte[] nonce = r.Bytes(Protocol.NonceBytes).ToArray();
        byte[] proof = r.Bytes(Protocol.ProofBytes).ToArray();
        r.End();
        return new ChallengeMessage(version, nonce, proof);
    }
}
