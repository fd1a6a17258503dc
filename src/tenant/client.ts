/**
 * The Worker's handle on a tenant Durable Object. It is the object's stub, except that a
 * LoopError the object answered as a value (RpcFailure) is thrown again here, with its errno,
 * so routes simply await calls and the one error handler turns failures into problem JSON.
 */
import { fromRpcFailure, isRpcFailure } from "../errors";
import type { TenantObject } from "./object";

export type TenantClient = DurableObjectStub<TenantObject>;

export function tenantClient(stub: DurableObjectStub<TenantObject>): TenantClient {
  return new Proxy(stub, {
    get(target, property) {
      const member: unknown = Reflect.get(target, property);
      if (typeof member !== "function") return member;
      return async (...args: unknown[]) => {
        // Called as a method of the stub itself: that is what makes it a remote call.
        const answer: unknown = await (target as unknown as Record<PropertyKey, Function>)[
          property
        ](...args);
        if (isRpcFailure(answer)) throw fromRpcFailure(answer);
        return answer;
      };
    },
  });
}
