namespace Tessera.Serving.Grpc;

/// <summary>
/// The type the inference.GRPCInferenceService routes are mapped on: <see cref="InferenceServiceMethods"/> binds them
/// to <see cref="InferenceGrpcService"/>, with ModelInfer's requests decoded by <see cref="ReceivedBlocks"/>.
/// </summary>
internal sealed class InferenceGrpcEndpoint
{
}
