using Grpc.Core;
using Tessera.Serving.Grpc.Wire;
using Tessera.Serving.Protocol;
using Tessera.Serving.Repository;

namespace Tessera.Serving.Grpc;

internal sealed partial class InferenceGrpcService
{
    public override Task<RepositoryIndexResponse> RepositoryIndex(RepositoryIndexRequest request, ServerCallContext context)
    {
        var response = new RepositoryIndexResponse();
        try
        {
            foreach (var e in _control.Index(request.RepositoryName, request.Ready))
            {
                response.Models.Add(new RepositoryIndexResponse.Types.ModelIndex { Name = e.Name, Version = e.Version, State = e.State, Reason = e.Reason });
            }
        }
        catch (ServingException e)
        {
            throw GrpcErrors.From(e);
        }

        return Task.FromResult(response);
    }

    public override Task<RepositoryModelLoadResponse> RepositoryModelLoad(RepositoryModelLoadRequest request, ServerCallContext context) =>
        ChangeAsync<RepositoryModelLoadResponse>(() => _control.LoadAsync(request.RepositoryName, request.ModelName, Parameters(request.Parameters), context.CancellationToken));

    public override Task<RepositoryModelUnloadResponse> RepositoryModelUnload(RepositoryModelUnloadRequest request, ServerCallContext context) =>
        ChangeAsync<RepositoryModelUnloadResponse>(() => _control.UnloadAsync(request.RepositoryName, request.ModelName, Parameters(request.Parameters), context.CancellationToken));

    private static async Task<T> ChangeAsync<T>(Func<Task> change)
        where T : new()
    {
        try
        {
            await change().ConfigureAwait(false);
        }
        catch (ServingException e)
        {
            throw GrpcErrors.From(e);
        }

        return new T();
    }

    /// <summary>The parameters as plain values (bool, long, string, bytes), as <see cref="RepositoryControl"/> reads them from either front door.</summary>
    private static Dictionary<string, object> Parameters(IDictionary<string, ModelRepositoryParameter> parameters) =>
        parameters.ToDictionary(p => p.Key, p => p.Value.ParameterChoiceCase switch
        {
            ModelRepositoryParameter.ParameterChoiceOneofCase.BoolParam => (object)p.Value.BoolParam,
            ModelRepositoryParameter.ParameterChoiceOneofCase.Int64Param => p.Value.Int64Param,
            ModelRepositoryParameter.ParameterChoiceOneofCase.StringParam => p.Value.StringParam,
            ModelRepositoryParameter.ParameterChoiceOneofCase.BytesParam => p.Value.BytesParam.ToByteArray(),
            _ => "",
        }, StringComparer.Ordinal);
}
