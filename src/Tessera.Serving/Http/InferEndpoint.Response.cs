using Microsoft.AspNetCore.Http;
using Tessera.Serving.Protocol;
using Tessera.Serving.Repository;
using Tessera.Tensors;

namespace Tessera.Serving.Http;

internal sealed partial class InferEndpoint
{
    private const int ResponseChunkBytes = 1 << 20;

    private static async Task WriteResponseAsync(HttpContext context, ServedModel model, InferenceRequest request, List<ResponseOutput> selected)
    {
        using var header = new PooledBufferWriter(4096);
        long binary = InferResponseWriter.WriteHeader(header, model.Name, model.Version, request.Id, selected);
        var response = context.Response;
        response.StatusCode = StatusCodes.Status200OK;
        bool anyBinary = selected.Exists(o => o.Binary);
        if (anyBinary)
        {
            response.ContentType = "application/octet-stream";
            response.Headers[InferRequestReader.HeaderLengthHeader] = header.Length.ToString(System.Globalization.CultureInfo.InvariantCulture);
        }
        else
        {
            response.ContentType = "application/json";
        }

        response.ContentLength = header.Length + binary;
        var body = response.BodyWriter;
        await body.WriteAsync(header.WrittenMemory, context.RequestAborted).ConfigureAwait(false);
        foreach (var o in selected)
        {
            if (!o.Binary)
            {
                continue;
            }

            if (o.Tensor.DataType == DataType.String)
            {
                BinaryTensorWriter.Write(body, o.Tensor);
                await body.FlushAsync(context.RequestAborted).ConfigureAwait(false);
                continue;
            }

            // Written and sent a piece at a time: the response pipe stays small and its blocks warm, and sending
            // starts before the whole tensor is copied.
            var memory = new Cluster.Transport.TensorMemory(o.Tensor).Memory;
            for (int at = 0; at < memory.Length; at += ResponseChunkBytes)
            {
                await body.WriteAsync(memory.Slice(at, Math.Min(ResponseChunkBytes, memory.Length - at)), context.RequestAborted).ConfigureAwait(false);
            }
        }
    }
}
