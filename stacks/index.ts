/**
 * Entry program of every stack: validate the stack's config once (nothing is registered when it is
 * invalid), compose the platform, export its outputs.
 */
import { loadConfig } from "../infra/config";
import { createPlatform } from "./platform";

const outputs = createPlatform(loadConfig());

export const endpointUrl = outputs.endpointUrl;
export const serviceUrl = outputs.serviceUrl;
export const nodePortUrl = outputs.nodePortUrl;
export const namespace = outputs.namespace;
export const imageRef = outputs.imageRef;
export const modelVersions = outputs.modelVersions;
export const modelStoreUrl = outputs.modelStoreUrl;
export const kubeconfig = outputs.kubeconfig;
export const registryLoginServer = outputs.registryLoginServer;
export const trainingPool = outputs.trainingPool;
export const release = outputs.release;
export const authMode = outputs.authMode;
export const inferenceKeys = outputs.inferenceKeys;
export const caCertificate = outputs.caCertificate;
