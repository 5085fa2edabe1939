using Tessera.Serving.Backends;
using Tessera.Serving.Grpc.Wire;
using Tessera.Serving.Http;
using Tessera.Serving.Repository;
using ModelConfig = Tessera.Serving.Grpc.Wire.ModelConfig;
using WireType = Tessera.Serving.Grpc.Wire.DataType;

namespace Tessera.Serving.Grpc;

/// <summary>
/// A served model's configuration in Triton's ModelConfig form (the gRPC ModelConfig answer and, as JSON, the
/// REST /config answer): its tensors without the batch dimension when it batches, its batching and its replicas.
/// </summary>
internal static class ModelConfigMessage
{
    public const string Backend = "tessera";

    public static ModelConfig From(ServedModel model)
    {
        var options = model.Scheduler.Options;
        bool batching = options.MaxBatchSize > 0;
        var config = new ModelConfig
        {
            Name = model.Name,
            Platform = model.Config.Ensemble is null ? MetadataEndpoints.Platform : "ensemble",
            Backend = Backend,
            MaxBatchSize = options.MaxBatchSize,
        };
        foreach (var t in model.Signature.Inputs)
        {
            var input = new ModelInput { Name = t.Name, DataType = TypeOf(t.DataType) };
            input.Dims.Add(Dims(t, batching));
            config.Input.Add(input);
        }

        foreach (var t in model.Signature.Outputs)
        {
            var output = new ModelOutput { Name = t.Name, DataType = TypeOf(t.DataType) };
            output.Dims.Add(Dims(t, batching));
            config.Output.Add(output);
        }

        config.InstanceGroup.Add(new ModelInstanceGroup { Name = model.Name, Count = model.Backend.ReplicaCount, Kind = ModelInstanceGroup.Types.Kind.Cpu });
        if (batching)
        {
            config.DynamicBatching = new ModelDynamicBatching
            {
                MaxQueueDelayMicroseconds = (ulong)options.MaxQueueDelayMicroseconds,
                PriorityLevels = (ulong)options.PriorityLevels,
                DefaultPriorityLevel = (ulong)options.DefaultPriority,
            };
            config.DynamicBatching.PreferredBatchSize.Add(options.PreferredBatchSizes);
        }

        return config;
    }

    private static IEnumerable<long> Dims(TensorSignature t, bool batching) => batching ? t.WireShape.Skip(1) : t.WireShape;

    private static WireType TypeOf(Tensors.DataType type) => type switch
    {
        Tensors.DataType.Bool => WireType.TypeBool,
        Tensors.DataType.UInt8 => WireType.TypeUint8,
        Tensors.DataType.UInt16 => WireType.TypeUint16,
        Tensors.DataType.UInt32 => WireType.TypeUint32,
        Tensors.DataType.UInt64 => WireType.TypeUint64,
        Tensors.DataType.Int8 => WireType.TypeInt8,
        Tensors.DataType.Int16 => WireType.TypeInt16,
        Tensors.DataType.Int32 => WireType.TypeInt32,
        Tensors.DataType.Int64 => WireType.TypeInt64,
        Tensors.DataType.Float16 => WireType.TypeFp16,
        Tensors.DataType.BFloat16 => WireType.TypeBf16,
        Tensors.DataType.Float32 => WireType.TypeFp32,
        Tensors.DataType.Float64 => WireType.TypeFp64,
        Tensors.DataType.String => WireType.TypeString,
        _ => WireType.TypeInvalid,
    };
}
