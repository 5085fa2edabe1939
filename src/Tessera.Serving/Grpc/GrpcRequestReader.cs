using Tessera.Serving.Grpc.Wire;
using Tessera.Serving.Protocol;
using Tessera.Tensors;
using DataType = Tessera.Tensors.DataType;

namespace Tessera.Serving.Grpc;

/// <summary>
/// Turns a decoded ModelInferRequest into the <see cref="InferenceRequest"/> every front door runs: the same
/// datatype names, shape limits and binary layout as the REST reader (raw_input_contents are laid out as the
/// binary-data extension's bytes, and large ones become tensors in place), typed contents checked element by element.
/// </summary>
internal static class GrpcRequestReader
{
    public static InferenceRequest Read(ModelInferRequest message)
    {
        var request = new InferenceRequest { Id = message.Id.Length == 0 ? null : message.Id };
        ReadParameters(message, request);
        bool raw = message.RawInputContents.Count > 0;
        if (raw && message.RawInputContents.Count != message.Inputs.Count)
        {
            throw ServingException.BadRequest($"the request has {message.Inputs.Count} inputs but {message.RawInputContents.Count} raw_input_contents; give one per input, in the same order");
        }

        for (int i = 0; i < message.Inputs.Count; i++)
        {
            var input = message.Inputs[i];
            string name = input.Name;
            if (name.Length == 0) throw ServingException.BadRequest("an input has no \"name\"");
            if (!WireDataTypes.TryParse(input.Datatype, out var type))
            {
                throw ServingException.BadRequest($"input '{name}' has unknown datatype '{input.Datatype}' (expected BOOL, UINT8, UINT16, UINT32, UINT64, INT8, INT16, INT32, INT64, FP16, BF16, FP32, FP64 or BYTES)");
            }

            if (request.Inputs.ContainsKey(name))
            {
                throw ServingException.BadRequest($"input '{name}' is given twice");
            }

            int[] shape = WireShape.Check(input.Shape.ToArray());
            Tensor tensor;
            if (raw)
            {
                if (input.Contents is not null)
                {
                    throw ServingException.BadRequest($"input '{name}' has \"contents\" although the request gives raw_input_contents");
                }

                tensor = BinaryTensorReader.Read(PinnedBytes.Pin(message.RawInputContents[i].Memory), name, type, shape);
            }
            else
            {
                tensor = TypedContents.Read(input.Contents ?? throw ServingException.BadRequest($"input '{name}' has no \"contents\" and the request no raw_input_contents"), name, type, shape);
            }

            request.Inputs.Add(name, tensor);
        }

        if (request.Inputs.Count == 0)
        {
            throw ServingException.BadRequest("the request has no \"inputs\"");
        }

        foreach (var output in message.Outputs)
        {
            request.Outputs.Add(new RequestedOutput(output.Name.Length == 0 ? throw ServingException.BadRequest("an entry of \"outputs\" has no \"name\"") : output.Name, null));
        }

        return request;
    }

    private static void ReadParameters(ModelInferRequest message, InferenceRequest request)
    {
        foreach (var (key, value) in message.Parameters)
        {
            switch (key)
            {
                case "priority":
                    request.Priority = (int)Integer(value, key, int.MaxValue);
                    break;
                case "timeout":
                    request.TimeoutMicroseconds = Integer(value, key, InferRequestReader.MaxTimeoutMicroseconds);
                    break;
                default:
                    break; // "binary_data_output" and whatever else a client adds: the answer's form follows the request's
            }
        }
    }

    private static long Integer(InferParameter value, string key, long max)
    {
        long v = value.ParameterChoiceCase switch
        {
            InferParameter.ParameterChoiceOneofCase.Int64Param => value.Int64Param,
            InferParameter.ParameterChoiceOneofCase.Uint64Param when value.Uint64Param <= long.MaxValue => (long)value.Uint64Param,
            _ => -1,
        };
        return v >= 0 && v <= max ? v : throw ServingException.BadRequest($"parameter \"{key}\" must be an integer in [0, {max}]");
    }
}
