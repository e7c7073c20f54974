import { Body, Controller, Delete, Get, HttpCode, Param, Post, Put, UseGuards } from '@nestjs/common';
import { ArrayMaxSize, ArrayMinSize, IsArray, IsObject, IsString, MaxLength, MinLength } from 'class-validator';
import { AdminGuard } from './admin.guard';
import { TrustService } from './trust.service';

export class AddIssuerDto {
  @IsString() @MinLength(1) @MaxLength(2048)
  iss: string;

  /** JWKs (or COSE_Key objects as JSON); at least one. */
  @IsArray() @ArrayMinSize(1) @ArrayMaxSize(32) @IsObject({ each: true })
  keys: Record<string, unknown>[];
}

/** Issuer trust and registration policy. Every change is appended to the log before it takes effect. */
@Controller('admin')
@UseGuards(AdminGuard)
export class AdminController {
  constructor(private readonly trust: TrustService) {}

  @Get('issuers')
  async issuers() {
    await this.trust.reload();
    return { issuers: this.trust.listIssuers() };
  }

  @Post('issuers')
  @HttpCode(201)
  async addIssuer(@Body() dto: AddIssuerDto) {
    const entryId = await this.trust.addIssuer(dto.iss, dto.keys);
    return { iss: dto.iss, entryId };
  }

  @Delete('issuers/:iss')
  async removeIssuer(@Param('iss') iss: string) {
    const entryId = await this.trust.removeIssuer(iss);
    return { iss, removed: true, entryId };
  }

  @Get('policy')
  async policy() {
    await this.trust.reload();
    return this.trust.policy;
  }

  @Put('policy')
  async setPolicy(@Body() doc: Record<string, unknown>) {
    const entryId = await this.trust.setPolicy(doc);
    return { policy: this.trust.policy, entryId };
  }
}
