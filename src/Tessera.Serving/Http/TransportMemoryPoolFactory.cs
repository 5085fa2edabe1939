using System.Buffers;
using Microsoft.AspNetCore.Connections;

namespace Tessera.Serving.Http;

/// <summary>Gives Kestrel's transports (and HTTP/2 streams) <see cref="TransportMemoryPool"/>s instead of 4 KiB blocks.</summary>
internal sealed class TransportMemoryPoolFactory : IMemoryPoolFactory<byte>
{
    // 256 free blocks of 128 KiB: 32 MiB kept per pool at most.
    private const int MaxFreeBlocks = 256;

    public MemoryPool<byte> Create(MemoryPoolOptions? options = null) => new TransportMemoryPool(MaxFreeBlocks);
}
