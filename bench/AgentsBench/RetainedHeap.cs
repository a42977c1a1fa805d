using System.Diagnostics.Tracing;
using Microsoft.Diagnostics.NETCore.Client;
using Microsoft.Diagnostics.Tracing;
using Microsoft.Diagnostics.Tracing.Parsers;

/// <summary>
/// What another .NET process's managed heap holds after a full, blocking collection that this induces
/// (the runtime's GC heap-collect keyword over EventPipe, as dotnet-gcdump triggers it): the memory its
/// live objects keep, without the garbage that resident memory still counts until the next collection.
/// </summary>
internal static class RetainedHeap
{
    public static long Bytes(int processId)
    {
        var client = new DiagnosticsClient(processId);
        var keywords = (long)(ClrTraceEventParser.Keywords.GC | ClrTraceEventParser.Keywords.GCHeapCollect);
        using var session = client.StartEventPipeSession(
            [new EventPipeProvider(ClrTraceEventParser.ProviderName, EventLevel.Informational, keywords)], requestRundown: false);
        using var source = new EventPipeEventSource(session.EventStream);
        long retained = -1;
        var induced = false;
        source.Clr.GCStart += data => induced |= data.Reason == Microsoft.Diagnostics.Tracing.Parsers.Clr.GCReason.Induced;
        source.Clr.GCHeapStats += data =>
        {
            if (induced && retained < 0)
            {
                retained = data.TotalHeapSize;
                session.Stop();
            }
        };
        var reading = Task.Run(source.Process);
        if (!reading.Wait(TimeSpan.FromSeconds(30)))
        {
            session.Stop();
            reading.Wait(TimeSpan.FromSeconds(10));
            throw new TimeoutException("No induced collection was reported within 30 s.");
        }

        return retained >= 0 ? retained : throw new InvalidOperationException("The event stream ended without the induced collection's heap statistics.");
    }
}
