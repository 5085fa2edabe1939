namespace Tessera.Cluster.Transport.Messages;

/// <summary>
/// SHARED_MEMORY_OFFER payload, client → server after the handshake: <c>16-byte host id (boot id) | string network
/// namespace | string segment name | u64 client → server ring bytes | u64 server → client ring bytes | 16-byte cookie</c>.
/// </summary>
public sealed record SharedMemoryOfferMessage(Guid HostId, string NetworkNamespace, string Name, long ToServerBytes, long ToClientBytes, byte[] Cookie)
{
    public WireWriter Write() => new WireWriter().Bytes(HostId.ToByteArray()).String(NetworkNamespace).String(Name)
        .U64((ulong)ToServerBytes).U64((ulong)ToClientBytes).Bytes(Cookie);

    public static SharedMemoryOfferMessage Read(ReadOnlySpan<byte> payload)
    {
        var r = new WireReader(payload);
        var hostId = new Guid(r.Bytes(16));
        string network = r.String();
        string name = r.String();
        ulong toServer = r.U64();
        ulong toClient = r.U64();
        byte[] cookie = r.Bytes(SharedMemory.SharedSegment.CookieBytes).ToArray();
        r.End();
        if (toServer > long.MaxValue / 4 || toClient > long.MaxValue / 4)
        {
            throw new ClusterException(ClusterErrorCode.Malformed, "a shared-memory offer with rings beyond any memory");
        }

        return new SharedMemoryOfferMessage(hostId, network, name, (long)toServer, (long)toClient, cookie);
    }
}
