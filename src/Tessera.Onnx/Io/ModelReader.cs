using Google.Protobuf;
using Tessera.Onnx.Graph;
using Tessera.Onnx.Protobuf;
using Tessera.Tensors;
using Tessera.Tensors.Formats;

namespace Tessera.Onnx.Io;

/// <summary>Reads ONNX ModelProto files into the graph IR. Constant nodes stay nodes; the engine folds them.</summary>
public static class ModelReader
{
    public static OnnxModel Load(string path)
    {
        if (!File.Exists(path))
        {
            throw new FileNotFoundException($"model file '{path}' does not exist");
        }

        byte[] bytes = File.ReadAllBytes(path);
        return Parse(bytes, Path.GetDirectoryName(Path.GetFullPath(path)), Path.GetFileName(path));
    }

    /// <summary>Parses a serialized model; <paramref name="baseDirectory"/> resolves external data files.</summary>
    public static OnnxModel Parse(ReadOnlySpan<byte> bytes, string? baseDirectory, string displayName = "model")
    {
        ModelProto proto;
        try
        {
            proto = ModelProto.Parser.ParseFrom(bytes);
        }
        catch (InvalidProtocolBufferException e)
        {
            throw new OnnxFormatException($"{displayName} is not a valid ONNX model (malformed or truncated protobuf: {e.Message})", e);
        }

        if (proto.Graph is null || (proto.Graph.Node.Count == 0 && proto.Graph.Output.Count == 0))
        {
            throw new OnnxFormatException($"{displayName} is not a valid ONNX model (it has no graph)");
        }

        var model = new OnnxModel
        {
            IrVersion = proto.IrVersion,
            ProducerName = proto.ProducerName,
            ProducerVersion = proto.ProducerVersion,
            Domain = proto.Domain,
            ModelVersion = proto.ModelVersion,
            DocString = proto.DocString,
            Graph = ReadGraph(proto.Graph, baseDirectory),
        };
        foreach (var opset in proto.OpsetImport)
        {
            model.OpsetImports[OnnxNode.NormalizeDomain(opset.Domain)] = opset.Version;
        }

        if (model.OpsetImports.Count == 0)
        {
            // IR version 2 files predate opset_import; they mean opset 1.
            model.OpsetImports[string.Empty] = 1;
        }

        foreach (var entry in proto.MetadataProps)
        {
            model.Metadata[entry.Key] = entry.Value;
        }

        return model;
    }

    internal static OnnxGraph ReadGraph(GraphProto proto, string? baseDirectory)
    {
        var graph = new OnnxGraph { Name = proto.Name, DocString = proto.DocString };
        foreach (var init in proto.Initializer)
        {
            if (string.IsNullOrEmpty(init.Name))
            {
                throw new OnnxFormatException("an initializer has no name");
            }

            graph.Initializers[init.Name] = ReadTensor(init, baseDirectory);
        }

        foreach (var input in proto.Input)
        {
            var info = ReadValueInfo(input);
            if (graph.Initializers.ContainsKey(info.Name))
            {
                graph.OverridableInitializers.Add(info.Name);
            }
            else
            {
                graph.Inputs.Add(info);
            }
        }

        foreach (var output in proto.Output)
        {
            graph.Outputs.Add(ReadValueInfo(output));
        }

        foreach (var vi in proto.ValueInfo)
        {
            graph.ValueInfos[vi.Name] = ReadValueInfo(vi);
        }

        foreach (var nodeProto in proto.Node)
        {
            graph.Nodes.Add(ReadNode(nodeProto, baseDirectory));
        }

        return graph;
    }

    private static OnnxNode ReadNode(NodeProto proto, string? baseDirectory)
    {
        var node = new OnnxNode
        {
            Name = proto.Name,
            OpType = proto.OpType,
            Domain = OnnxNode.NormalizeDomain(proto.Domain),
            DocString = proto.DocString,
        };
        if (string.IsNullOrEmpty(node.OpType))
        {
            throw new OnnxFormatException($"node '{proto.Name}' has no operator type");
        }

        node.Inputs.AddRange(proto.Input);
        node.Outputs.AddRange(proto.Output);
        foreach (var attr in proto.Attribute)
        {
            node.Attributes[attr.Name] = ReadAttribute(attr, node, baseDirectory);
        }

        return node;
    }

    private static NodeAttribute ReadAttribute(AttributeProto a, OnnxNode node, string? baseDirectory)
    {
        var kind = (AttributeKind)a.Type;
        if (kind == AttributeKind.Undefined)
        {
            kind = GuessKind(a);
        }

        try
        {
            return new NodeAttribute
            {
                Name = a.Name,
                Kind = kind,
                Float = a.F,
                Int = a.I,
                String = a.S.ToStringUtf8(),
                Tensor = a.T is null ? null : ReadTensor(a.T, baseDirectory),
                Graph = a.G is null ? null : ReadGraph(a.G, baseDirectory),
                Floats = [.. a.Floats],
                Ints = [.. a.Ints],
                Strings = [.. a.Strings.Select(s => s.ToStringUtf8())],
                Tensors = [.. a.Tensors.Select(t => ReadTensor(t, baseDirectory))],
                Graphs = [.. a.Graphs.Select(g => ReadGraph(g, baseDirectory))],
            };
        }
        catch (Exception e) when (e is InvalidDataException or NotSupportedException)
        {
            throw new OnnxFormatException($"attribute '{a.Name}' of node {node}: {e.Message}", e);
        }
    }

    // IR version 1 files have no attribute type; infer it from the field that is set.
    private static AttributeKind GuessKind(AttributeProto a) =>
        a.Ints.Count > 0 ? AttributeKind.Ints :
        a.Floats.Count > 0 ? AttributeKind.Floats :
        a.Strings.Count > 0 ? AttributeKind.Strings :
        a.T is not null ? AttributeKind.Tensor :
        a.G is not null ? AttributeKind.Graph :
        !a.S.IsEmpty ? AttributeKind.String :
        a.F != 0 ? AttributeKind.Float : AttributeKind.Int;

    private static Tensor ReadTensor(TensorProto proto, string? baseDirectory)
    {
        try
        {
            return TensorProtoFormat.ToTensor(proto, baseDirectory);
        }
        catch (Exception e) when (e is InvalidDataException or NotSupportedException or FileNotFoundException or IOException)
        {
            throw new OnnxFormatException(e.Message, e);
        }
    }

    internal static ValueInfo ReadValueInfo(ValueInfoProto proto)
    {
        var info = new ValueInfo { Name = proto.Name, DocString = proto.DocString };
        info.NonTensorKind = proto.Type?.ValueCase switch
        {
            TypeProto.ValueOneofCase.SequenceType => "sequence",
            TypeProto.ValueOneofCase.MapType => "map",
            TypeProto.ValueOneofCase.OptionalType => "optional",
            TypeProto.ValueOneofCase.SparseTensorType => "sparse tensor",
            _ => null,
        };
        var tensorType = proto.Type?.TensorType;
        if (tensorType is not null)
        {
            info.ElementType = (DataType)tensorType.ElemType;
            if (tensorType.Shape is not null)
            {
                info.Shape = tensorType.Shape.Dim.Select(d => d.ValueCase switch
                {
                    TensorShapeProto.Types.Dimension.ValueOneofCase.DimValue => Dimension.Known(d.DimValue),
                    TensorShapeProto.Types.Dimension.ValueOneofCase.DimParam => Dimension.Named(d.DimParam),
                    _ => Dimension.Unknown,
                }).ToArray();
            }
        }

        return info;
    }
}
