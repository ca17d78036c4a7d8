// The official Python SDK (`mcp`, pinned in scripts/python-venv.sh) as server and client through the gateway.
import { sdkBothSides } from './sdk-scenarios.ts';

sdkBothSides('python');
