using Google.Protobuf;
using Tessera.Cluster.Transport;
using Tessera.Serving.Grpc.Wire;
using Tessera.Serving.Protocol;
using Tessera.Tensors;
using DataType = Tessera.Tensors.DataType;

namespace Tessera.Serving.Grpc;

/// <summary>
/// Builds a ModelInferResponse. Raw contents wrap each output's own storage (no copy: the response holds the
/// tensor alive until it is serialized); typed contents, when the request used them too and every output has a
/// typed field.
/// </summary>
internal static class GrpcResponseWriter
{
    public static ModelInferResponse Write(string model, string version, string? id, IReadOnlyList<ResponseOutput> outputs, bool typed)
    {
        var response = new ModelInferResponse { ModelName = model, ModelVersion = version, Id = id ?? "" };
        var contents = typed ? outputs.Select(o => TypedContents.Write(o.Tensor)).ToArray() : null;
        bool raw = contents is null || Array.Exists(contents, c => c is null);
        for (int i = 0; i < outputs.Count; i++)
        {
            var tensor = outputs[i].Tensor;
            var output = new ModelInferResponse.Types.InferOutputTensor { Name = outputs[i].Name, Datatype = WireDataTypes.Name(tensor.DataType) };
            foreach (int d in tensor.Shape) output.Shape.Add(d);
            if (raw)
            {
                response.RawOutputContents.Add(RawContents(tensor));
            }
            else
            {
                output.Contents = contents![i];
            }

            response.Outputs.Add(output);
        }

        return response;
    }

    private static ByteString RawContents(Tensor tensor)
    {
        if (tensor.DataType != DataType.String)
        {
            return UnsafeByteOperations.UnsafeWrap(new TensorMemory(tensor).Memory);
        }

        var writer = new System.Buffers.ArrayBufferWriter<byte>((int)Math.Max(BinaryTensorWriter.Size(tensor), 1));
        BinaryTensorWriter.Write(writer, tensor);
        return UnsafeByteOperations.UnsafeWrap(writer.WrittenMemory);
    }
}
