import { RemovalPolicy, Stack } from 'aws-cdk-lib';
import { AttributeType, BillingMode, Table, TableEncryption } from 'aws-cdk-lib/aws-dynamodb';
import { type IGrantable, PolicyStatement } from 'aws-cdk-lib/aws-iam';
import { Key } from 'aws-cdk-lib/aws-kms';
import { Construct } from 'constructs';

/**
 * The idempotency records of writes sent with an `Idempotency-Key`, in the layout of Powertools
 * for AWS Lambda Idempotency's DynamoDB layer: partition key `id` (a hash of the partner id and
 * the key), TTL on `expiration` (the end of the replay window; DynamoDB deletes lapsed records
 * within days, and the proxy's conditional writes ignore them at once).
 *
 * Secure defaults: on-demand capacity, point-in-time recovery, encryption under a customer
 * managed key of its own with rotation (stored answers can hold device credentials), and
 * removal with the stack: the records are a cache of at most one window of answers, and a
 * partner that lost one simply sends a new key.
 */
export class IdempotencyStore extends Construct {
  readonly table: Table;
  readonly key: Key;

  constructor(scope: Construct, id: string) {
    super(scope, id);
    this.key = new Key(this, 'Key', {
      description:
        'Encrypts the idempotency records (stored answers of partner writes) of ioto-bff',
      enableKeyRotation: true,
      removalPolicy: RemovalPolicy.DESTROY,
    });
    // Table, not TableV2: TableV2 cannot render a customer managed key in an environment-agnostic
    // stack (it needs the region for its replica specification).
    this.table = new Table(this, 'Table', {
      partitionKey: { name: 'id', type: AttributeType.STRING },
      billingMode: BillingMode.PAY_PER_REQUEST,
      timeToLiveAttribute: 'expiration',
      pointInTimeRecoverySpecification: { pointInTimeRecoveryEnabled: true },
      encryption: TableEncryption.CUSTOMER_MANAGED,
      encryptionKey: this.key,
      removalPolicy: RemovalPolicy.DESTROY,
    });
  }

  /** The proxy's environment: where the records are. */
  get environment(): Record<string, string> {
    return { IDEMPOTENCY_TABLE_NAME: this.table.tableName };
  }

  /**
   * Lets `grantee` read and write single records, and nothing else: no query, scan, batch or
   * table-level action (Powertools uses exactly these four), and the key only through DynamoDB.
   */
  grantItemAccess(grantee: IGrantable): void {
    grantee.grantPrincipal.addToPrincipalPolicy(
      new PolicyStatement({
        actions: [
          'dynamodb:GetItem',
          'dynamodb:PutItem',
          'dynamodb:UpdateItem',
          'dynamodb:DeleteItem',
        ],
        resources: [this.table.tableArn],
      }),
    );
    grantee.grantPrincipal.addToPrincipalPolicy(
      new PolicyStatement({
        actions: ['kms:Decrypt', 'kms:Encrypt', 'kms:GenerateDataKey', 'kms:DescribeKey'],
        resources: [this.key.keyArn],
        conditions: {
          StringEquals: { 'kms:ViaService': `dynamodb.${Stack.of(this).region}.amazonaws.com` },
        },
      }),
    );
  }
}
