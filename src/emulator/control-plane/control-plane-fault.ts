/**
 * An AWS error answer of the IoT control plane: HTTP status, the shape name sent in
 * `x-amzn-ErrorType`, the message, and modeled extra members (`resourceId`, `resourceArn` of
 * ResourceAlreadyExistsException). Thrown inside the control plane, turned into a response by
 * the routes; never leaves the emulator.
 */
export class ControlPlaneFault extends Error {
  readonly status: number;
  readonly errorType: string;
  readonly members: Readonly<Record<string, string>>;

  constructor(status: number, errorType: string, message: string, members: Record<string, string> = {}) {
    super(message);
    this.name = 'ControlPlaneFault';
    this.status = status;
    this.errorType = errorType;
    this.members = members;
  }

  static invalidRequest(message: string): ControlPlaneFault {
    return new ControlPlaneFault(400, 'InvalidRequestException', message);
  }

  static notFound(message: string): ControlPlaneFault {
    return new ControlPlaneFault(404, 'ResourceNotFoundException', message);
  }

  static invalidQuery(message: string): ControlPlaneFault {
    return new ControlPlaneFault(400, 'InvalidQueryException', message);
  }

  static versionConflict(message: string): ControlPlaneFault {
    return new ControlPlaneFault(409, 'VersionConflictException', message);
  }

  /** AWS's model-constraint text: `1 validation error detected: Value '<v>' at '<member>' failed to satisfy constraint: <c>`. */
  static constraint(member: string, value: unknown, constraint: string): ControlPlaneFault {
    return ControlPlaneFault.invalidRequest(
      `1 validation error detected: Value '${String(value)}' at '${member}' failed to satisfy constraint: ${constraint}`,
    );
  }
}
