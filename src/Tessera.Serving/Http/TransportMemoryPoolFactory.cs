using System.Buffers;
using Microsoft.AspNetCore.Connections;

namespace Tessera.Serving.Http;

/// <summary>Gives Kestrel's transports (and HTTP/2 streams) <see cref="TransportMemoryPool"/>s instead of 4 KiB blocks.</summary>
/// <param name="maxFreeBytes">
/// Free memory each pool keeps. gRPC buffers a whole message in the stream's pipe before it is parsed, so a pool
/// that kept less than the largest message would hand fresh, page-faulting blocks to every large request.
/// </param>
internal sealed class TransportMemoryPoolFactory(long maxFreeBytes) : IMemoryPoolFactory<byte>
{
    public MemoryPool<byte> Create(MemoryPoolOptions? options = null) =>
        new TransportMemoryPool((int)Math.Clamp(maxFreeBytes / TransportMemoryPool.BlockBytes, 256, int.MaxValue));
}
