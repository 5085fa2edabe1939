using System.Runtime.CompilerServices;
using Grpc.Core;
using Tessera.Serving.Grpc.Wire;
using Tessera.Serving.Http;
using Tessera.Serving.Protocol;

namespace Tessera.Serving.Grpc;

/// <summary>
/// Decodes received ModelInferRequests into pooled blocks (<see cref="RawInputParser"/>) and keeps, for each
/// request, the blocks its raw contents live in, from the marshaller that fills them to the handler that gives
/// them back once the answer is written (<see cref="Release"/>).
/// </summary>
internal sealed class ReceivedBlocks
{
    private readonly ConditionalWeakTable<ModelInferRequest, BlockList> _blocks = [];
    private readonly RequestBufferPool _pool;

    public ReceivedBlocks(RequestBufferPool pool)
    {
        _pool = pool;
    }

    public ModelInferRequest Parse(DeserializationContext context)
    {
        var blocks = new BlockList();
        try
        {
            var request = RawInputParser.Parse(context.PayloadAsReadOnlySequence(), _pool, blocks);
            if (blocks.Count > 0)
            {
                _blocks.Add(request, blocks);
            }

            return request;
        }
        catch (ServingException e)
        {
            // Thrown as the status itself: Grpc.AspNetCore answers any other exception from a marshaller with UNKNOWN.
            blocks.Dispose();
            throw GrpcErrors.From(e);
        }
        catch
        {
            blocks.Dispose();
            throw;
        }
    }

    /// <summary>The blocks of <paramref name="request"/>, to dispose once nothing reads its inputs (none for a request that has none).</summary>
    public IDisposable Release(ModelInferRequest request) => _blocks.TryGetValue(request, out var blocks) && _blocks.Remove(request) ? blocks : BlockList.Empty;

    private sealed class BlockList : List<RequestBuffer>, IDisposable
    {
        public static readonly BlockList Empty = [];

        public void Dispose()
        {
            foreach (var block in this) block.Dispose();
        }
    }
}
