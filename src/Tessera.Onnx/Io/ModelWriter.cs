using System.Globalization;
using Google.Protobuf;
using Tessera.Onnx.Graph;
using Tessera.Onnx.Protobuf;
using Tessera.Tensors;
using Tessera.Tensors.Formats;

namespace Tessera.Onnx.Io;

/// <summary>
/// Writes the graph IR back to an ONNX ModelProto. Initializers go inline unless an external data file is
/// named, in which case every initializer of at least <c>externalThresholdBytes</c> goes there, 64-byte aligned.
/// </summary>
public static class ModelWriter
{
    public static void Save(OnnxModel model, string path, string? externalDataFile = null, int externalThresholdBytes = 1024)
    {
        string directory = Path.GetDirectoryName(Path.GetFullPath(path))!;
        Directory.CreateDirectory(directory);
        FileStream? external = externalDataFile is null ? null : File.Create(Path.Combine(directory, externalDataFile));
        try
        {
            var proto = ToProto(model, external, externalDataFile, externalThresholdBytes);
            using var output = File.Create(path);
            proto.WriteTo(output);
        }
        finally
        {
            external?.Dispose();
        }
    }

    public static byte[] Serialize(OnnxModel model) => ToProto(model, null, null, 0).ToByteArray();

    private static ModelProto ToProto(OnnxModel model, FileStream? external, string? externalName, int threshold)
    {
        var proto = new ModelProto
        {
            IrVersion = model.IrVersion,
            ProducerName = model.ProducerName,
            ProducerVersion = model.ProducerVersion,
            Domain = model.Domain,
            ModelVersion = model.ModelVersion,
            DocString = model.DocString,
            Graph = WriteGraph(model.Graph, external, externalName, threshold),
        };
        foreach (var (domain, version) in model.OpsetImports.OrderBy(kv => kv.Key, StringComparer.Ordinal))
        {
            proto.OpsetImport.Add(new OperatorSetIdProto { Domain = domain, Version = version });
        }

        foreach (var (key, value) in model.Metadata)
        {
            proto.MetadataProps.Add(new StringStringEntryProto { Key = key, Value = value });
        }

        return proto;
    }

    private static GraphProto WriteGraph(OnnxGraph graph, FileStream? external, string? externalName, int threshold)
    {
        var proto = new GraphProto { Name = graph.Name, DocString = graph.DocString };
        foreach (var node in graph.Nodes)
        {
            proto.Node.Add(WriteNode(node, external, externalName, threshold));
        }

        foreach (var (name, tensor) in graph.Initializers)
        {
            proto.Initializer.Add(WriteTensor(name, tensor, external, externalName, threshold));
        }

        foreach (var input in graph.Inputs)
        {
            proto.Input.Add(WriteValueInfo(input));
        }

        foreach (var name in graph.OverridableInitializers)
        {
            var t = graph.Initializers[name];
            proto.Input.Add(WriteValueInfo(new ValueInfo
            {
                Name = name,
                ElementType = t.DataType,
                Shape = t.Shape.Select(d => Dimension.Known(d)).ToArray(),
            }));
        }

        foreach (var output in graph.Outputs)
        {
            proto.Output.Add(WriteValueInfo(output));
        }

        foreach (var vi in graph.ValueInfos.Values)
        {
            proto.ValueInfo.Add(WriteValueInfo(vi));
        }

        return proto;
    }

    private static NodeProto WriteNode(OnnxNode node, FileStream? external, string? externalName, int threshold)
    {
        var proto = new NodeProto { Name = node.Name, OpType = node.OpType, Domain = node.Domain, DocString = node.DocString };
        proto.Input.AddRange(node.Inputs);
        proto.Output.AddRange(node.Outputs);
        foreach (var a in node.Attributes.Values)
        {
            var ap = new AttributeProto { Name = a.Name, Type = (AttributeProto.Types.AttributeType)a.Kind };
            switch (a.Kind)
            {
                case AttributeKind.Float: ap.F = a.Float; break;
                case AttributeKind.Int: ap.I = a.Int; break;
                case AttributeKind.String: ap.S = ByteString.CopyFromUtf8(a.String); break;
                case AttributeKind.Tensor: ap.T = WriteTensor(string.Empty, a.Tensor!, null, null, 0); break;
                case AttributeKind.Graph: ap.G = WriteGraph(a.Graph!, external, externalName, threshold); break;
                case AttributeKind.Floats: ap.Floats.AddRange(a.Floats); break;
                case AttributeKind.Ints: ap.Ints.AddRange(a.Ints); break;
                case AttributeKind.Strings: ap.Strings.AddRange(a.Strings.Select(ByteString.CopyFromUtf8)); break;
                case AttributeKind.Tensors: ap.Tensors.AddRange(a.Tensors.Select(t => WriteTensor(string.Empty, t, null, null, 0))); break;
                case AttributeKind.Graphs: ap.Graphs.AddRange(a.Graphs.Select(g => WriteGraph(g, external, externalName, threshold))); break;
            }

            proto.Attribute.Add(ap);
        }

        return proto;
    }

    private static TensorProto WriteTensor(string name, Tensor tensor, FileStream? external, string? externalName, int threshold)
    {
        if (external is null || tensor.DataType == DataType.String || tensor.ByteLength < threshold)
        {
            return TensorProtoFormat.FromTensor(tensor, name);
        }

        long padding = (64 - external.Position % 64) % 64;
        external.Write(new byte[padding]);
        long offset = external.Position;
        external.Write(tensor.Bytes);
        var proto = new TensorProto { Name = name, DataType = (int)tensor.DataType, DataLocation = TensorProto.Types.DataLocation.External };
        proto.Dims.AddRange(tensor.Shape.Select(d => (long)d));
        proto.ExternalData.Add(new StringStringEntryProto { Key = "location", Value = externalName });
        proto.ExternalData.Add(new StringStringEntryProto { Key = "offset", Value = offset.ToString(CultureInfo.InvariantCulture) });
        proto.ExternalData.Add(new StringStringEntryProto { Key = "length", Value = tensor.ByteLength.ToString(CultureInfo.InvariantCulture) });
        return proto;
    }

    private static ValueInfoProto WriteValueInfo(ValueInfo info)
    {
        var proto = new ValueInfoProto { Name = info.Name, DocString = info.DocString };
        if (info.ElementType == DataType.Undefined && info.Shape is null)
        {
            return proto;
        }

        var tensorType = new TypeProto.Types.Tensor { ElemType = (int)info.ElementType };
        if (info.Shape is not null)
        {
            tensorType.Shape = new TensorShapeProto();
            foreach (var d in info.Shape)
            {
                var dim = new TensorShapeProto.Types.Dimension();
                if (d.Value.HasValue) dim.DimValue = d.Value.Value;
                else if (d.Symbol is not null) dim.DimParam = d.Symbol;
                tensorType.Shape.Dim.Add(dim);
            }
        }

        proto.Type = new TypeProto { TensorType = tensorType };
        return proto;
    }
}
