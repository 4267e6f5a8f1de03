using Steward.Operations;

namespace Steward.Server.Broker;

/// <summary>Creates the record of a new operation.</summary>
internal sealed class OperationFactory(TimeProvider time)
{
    public Operation Create(string instanceId, string? bindingId, OperationKind kind, string description, RequestIdentity identity, string? payload = null)
    {
        var now = time.GetUtcNow();
        return new Operation
        {
            Id = OperationIds.NewOperation(),
            InstanceId = instanceId,
            BindingId = bindingId,
            Kind = kind,
            State = OperationState.InProgress,
            Description = description,
            PayloadJson = payload,
            OriginatingIdentity = identity.Originating,
            RequestIdentity = identity.Request,
            CreatedAt = now,
            UpdatedAt = now,
        };
    }
}
