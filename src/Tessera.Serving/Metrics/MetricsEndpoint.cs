using System.Text;
using Microsoft.AspNetCore.Http;
using Tessera.Serving.Repository;

namespace Tessera.Serving.Metrics;

/// <summary>GET /metrics: every model version's counters, histograms and replica gauges in the Prometheus text format.</summary>
internal sealed class MetricsEndpoint
{
    private readonly ModelRepository _models;

    public MetricsEndpoint(ModelRepository models)
    {
        _models = models;
    }

    public async Task ScrapeAsync(HttpContext context)
    {
        byte[] body = Encoding.UTF8.GetBytes(Render());
        context.Response.StatusCode = StatusCodes.Status200OK;
        context.Response.ContentType = PrometheusText.ContentType;
        context.Response.ContentLength = body.Length;
        await context.Response.Body.WriteAsync(body, context.RequestAborted).ConfigureAwait(false);
    }

    public string Render()
    {
        var text = new StringBuilder(8192);
        var models = _models.All.ToArray();
        foreach (var family in ServingMetricFamilies.Of(_models))
        {
            PrometheusText.Header(text, family.Name, family.Type, family.Help);
            if (family.Histogram is { } histogram)
            {
                foreach (var m in models)
                {
                    m.Metrics.Histograms[histogram.Index].WriteTo(text, family.Name, m.Metrics.Labels);
                }
            }
            else
            {
                foreach (var sample in family.Samples!())
                {
                    PrometheusText.Sample(text, family.Name, sample.Labels, sample.Value);
                }
            }
        }

        return text.ToString();
    }
}
