using System.Diagnostics.Tracing;
using Microsoft.Diagnostics.NETCore.Client;
using Microsoft.Diagnostics.Tracing;
using Microsoft.Diagnostics.Tracing.Parsers;
using Microsoft.Diagnostics.Tracing.Parsers.Clr;

/// <summary>
/// What another .NET process's managed heap holds after a full, blocking collection that this induces
/// (the runtime's GC heap-collect keyword over EventPipe, as dotnet-gcdump triggers it): the memory its
/// live objects keep, without the garbage that resident memory still counts until the next collection.
/// The heap's size also counts the free space the collection left between live objects (it did not
/// compact); <see cref="Snapshot.LiveObjects"/> is the size less that free space.
/// </summary>
internal static class RetainedHeap
{
    private static readonly Gens[] Generations = [Gens.Gen0, Gens.Gen1, Gens.Gen2, Gens.GenLargeObj, Gens.GenPinObj];

    public readonly record struct Snapshot(long HeapSize, long FreeSpace)
    {
        public long LiveObjects => HeapSize - FreeSpace;
    }

    public static Snapshot Take(int processId)
    {
        var client = new DiagnosticsClient(processId);
        var keywords = (long)(ClrTraceEventParser.Keywords.GC | ClrTraceEventParser.Keywords.GCHeapCollect);
        using var session = client.StartEventPipeSession(
            [new EventPipeProvider(ClrTraceEventParser.ProviderName, EventLevel.Informational, keywords)], requestRundown: false);
        using var source = new EventPipeEventSource(session.EventStream);
        Snapshot? snapshot = null;
        var induced = false;
        long free = 0;
        source.Clr.GCStart += data =>
        {
            induced |= data.Reason == GCReason.Induced;
            free = 0;
        };
        // One event per GC heap (server GC), before the collection's heap statistics.
        source.Clr.GCPerHeapHistory += data =>
        {
            foreach (var generation in Generations)
            {
                free += data.GenData(generation).Fragmentation;
            }
        };
        source.Clr.GCHeapStats += data =>
        {
            if (induced && snapshot is null)
            {
                snapshot = new Snapshot(data.TotalHeapSize, free);
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

        return snapshot ?? throw new InvalidOperationException("The event stream ended without the induced collection's heap statistics.");
    }
}
